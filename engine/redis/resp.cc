#include "engine/redis/resp.h"

#include <charconv>

namespace physics::redis {
namespace {

// '<prefix><n>\r\n' with the decimal n produced by to_chars (no locale, no allocation).
void AppendHeader(std::string& out, char prefix, size_t n) {
  char digits[24];
  digits[0] = prefix;
  const std::to_chars_result r = std::to_chars(digits + 1, digits + sizeof(digits) - 2, n);
  r.ptr[0] = '\r';
  r.ptr[1] = '\n';
  out.append(digits, static_cast<size_t>(r.ptr + 2 - digits));
}

}  // namespace

void AppendResp(std::string& out, std::span<const std::string_view> argv) {
  AppendHeader(out, '*', argv.size());
  for (std::string_view arg : argv) {
    AppendHeader(out, '$', arg.size());
    out.append(arg);
    out.append("\r\n", 2);
  }
}

}  // namespace physics::redis
