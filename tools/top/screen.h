// Draws one physics-top screen as a string of plain ANSI escapes: a title
// line, a status line, the column header, one row per symbol and a key-help
// line, every line cut to the terminal width. Columns shrink to their minimum
// width, then the least important are hidden, so an 80-column SSH session
// shows every field of the vector.
// Thread-safety: pure functions.
#ifndef PHYSICS_TOOLS_TOP_SCREEN_H_
#define PHYSICS_TOOLS_TOP_SCREEN_H_

#include <span>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "tools/top/symbol_table.h"

namespace physics::top {

struct ScreenModel {
  std::string_view target;    // "redis://... , namespace ..."
  std::string_view status;    // "" when all is well, else e.g. "Redis unavailable: ..."
  std::span<const Row* const> rows;  // sorted and filtered
  size_t total_symbols = 0;
  SortKey sort = SortKey::kSymbol;
  bool descending = false;
  std::string_view filter;    // applied filter
  bool editing_filter = false;  // '/' typed, Enter not yet
  absl::Time now;
  int columns = 80;
  int rows_on_screen = 24;
  bool color = true;
};

// The whole screen, starting with cursor-home, each line cleared to its end,
// and the rest of the screen cleared, so it can be written over the last one
// in one write() without flicker.
std::string RenderScreen(const ScreenModel& model);

// `value` in at most `width` characters (fewest significant digits lost;
// exponents as "1.2e6"); '#' * width when nothing fits.
std::string FitNumber(double value, int width);

}  // namespace physics::top

#endif  // PHYSICS_TOOLS_TOP_SCREEN_H_
