// What the physics-top user has chosen with the keyboard: the sort key and
// direction, the symbol filter (typed after '/'), and whether to quit.
// Not thread-safe: owned by physics-top's single thread.
#ifndef PHYSICS_TOOLS_TOP_VIEW_STATE_H_
#define PHYSICS_TOOLS_TOP_VIEW_STATE_H_

#include <string>
#include <string_view>

#include "tools/top/symbol_table.h"

namespace physics::top {

struct ViewState {
  SortKey sort = SortKey::kSymbol;
  bool descending = false;
  std::string filter;          // upper case; applied as it is typed
  bool editing_filter = false;
  bool quit = false;

  // Applies the bytes read from the keyboard. Keys: q quit; a sort key (see
  // SortKeyForChar) sorts by it in its natural direction, the same key again
  // reverses; r reverses; / edits the filter: letters, digits and ._- add
  // (upper-cased), Backspace deletes, Enter keeps it, Esc clears it. Escape
  // sequences (arrow keys) are ignored. Returns whether anything changed.
  bool HandleInput(std::string_view bytes);
};

}  // namespace physics::top

#endif  // PHYSICS_TOOLS_TOP_VIEW_STATE_H_
