#include "tools/top/view_state.h"

#include <cctype>

namespace physics::top {
namespace {

constexpr char kEscape = 0x1b;
constexpr char kCtrlU = 0x15;

bool IsSymbolChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

}  // namespace

bool ViewState::HandleInput(std::string_view bytes) {
  bool changed = false;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == kEscape && i + 1 < bytes.size() && (bytes[i + 1] == '[' || bytes[i + 1] == 'O')) {
      // CSI/SS3 sequence: skip to its final byte (a letter or '~').
      i += 2;
      while (i < bytes.size() && !std::isalpha(static_cast<unsigned char>(bytes[i])) && bytes[i] != '~') ++i;
      continue;
    }
    if (editing_filter) {
      changed = true;
      if (c == '\r' || c == '\n') {
        editing_filter = false;
      } else if (c == kEscape) {
        editing_filter = false;
        filter.clear();
      } else if (c == 0x7f || c == '\b') {
        if (!filter.empty()) filter.pop_back();
      } else if (c == kCtrlU) {
        filter.clear();
      } else if (IsSymbolChar(c) && filter.size() < 32) {
        filter.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
      }
      continue;
    }
    if (c == 'q' || c == 'Q') {
      quit = true;
      return true;
    }
    if (c == '/') {
      editing_filter = true;
      changed = true;
    } else if (c == 'r') {
      descending = !descending;
      changed = true;
    } else if (c == kEscape && !filter.empty()) {
      filter.clear();
      changed = true;
    } else if (std::optional<SortKey> key = SortKeyForChar(c)) {
      descending = *key == sort ? !descending : DefaultDescending(*key);
      sort = *key;
      changed = true;
    }
  }
  return changed;
}

}  // namespace physics::top
