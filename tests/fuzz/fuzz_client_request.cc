// Fuzzes bridge::ParseClientRequest on what a WebSocket client may send
// (docs/SPEC.md §6). Checks: an accepted subscribe has 1..kMaxSymbolsPerRequest
// normalised, sorted, distinct symbols; a refusal has a one-line message that
// is valid UTF-8 whenever the request was (it goes out in a text frame), and
// the error frame built from it is a JSON object simdjson accepts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bridge/client_request.h"
#include "bridge/frame.h"
#include "bridge/ws_codec.h"
#include "simdjson.h"
#include "tests/fuzz/fuzz_check.h"

namespace physics::fuzz {
namespace {

void CheckErrorFrame(std::string_view message) {
  const bridge::FramePtr frame = bridge::MakeErrorFrame(message);
  // Server frames are unmasked: the 7-bit length says how long the header is.
  const auto length7 = static_cast<uint8_t>(frame->bytes().at(1)) & 0x7F;
  const std::string_view payload =
      frame->bytes().substr(length7 < 126 ? 2 : length7 == 126 ? 4 : 10);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view type, text;
  Check(!parser.parse(std::string(payload)).get(doc) && !doc["type"].get_string().get(type) &&
            type == "error" && !doc["error"].get_string().get(text) && text == message,
        "error frame is the JSON {\"type\":\"error\",\"error\":<message>}", payload);
}

void FuzzOne(std::string_view text) {
  bridge::ClientRequest request;
  if (std::optional<bridge::RequestError> e = bridge::ParseClientRequest(text, request)) {
    Check(!e->message.empty() && IsOneLine(e->message), "client error message is one line",
          e->message);
    if (IsValidUtf8(text)) {
      Check(IsValidUtf8(e->message), "client error message is valid UTF-8 (a text frame)",
            e->message);
      CheckErrorFrame(e->message);
    }
    return;
  }
  using Type = bridge::ClientRequest::Type;
  Check(request.type == Type::kSubscribe || request.type == Type::kUnsubscribe ||
            request.type == Type::kPing,
        "request type is one of subscribe, unsubscribe, ping");
  if (request.type != Type::kSubscribe) {
    Check(!request.symbols.has_value(), "only subscribe carries symbols");
    return;
  }
  if (!request.symbols) return;  // every symbol
  const std::vector<std::string>& symbols = *request.symbols;
  Check(!symbols.empty() && symbols.size() <= bridge::kMaxSymbolsPerRequest,
        "subscribe names 1..kMaxSymbolsPerRequest symbols");
  for (size_t i = 0; i < symbols.size(); ++i) {
    Check(IsNormalSymbol(symbols[i]), "subscribed symbol is normalised", symbols[i]);
    Check(i == 0 || symbols[i - 1] < symbols[i], "subscribed symbols are sorted and distinct");
  }
}

}  // namespace
}  // namespace physics::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  physics::fuzz::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
