#include "bridge/client_request.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/schema/event_header.h"
#include "engine/schema/state_message.h"
#include "engine/schema/symbol.h"
#include "simdjson.h"

namespace physics::bridge {
namespace {

RequestError Bad(std::string message) { return {ClientError::kBadRequest, std::move(message)}; }

// Quotes at most 40 bytes of client text for an error message, escaped: the
// cut may split a UTF-8 character, and the message must stay one line of
// valid UTF-8 (it goes out in a text frame).
std::string Quote(std::string_view s) {
  return absl::StrCat("\"", absl::CHexEscape(std::string(s.substr(0, 40))),
                      s.size() > 40 ? "...\"" : "\"");
}

std::optional<RequestError> ParseSymbols(simdjson::dom::element value,
                                         std::optional<std::vector<std::string>>& out) {
  if (value.is_null()) return std::nullopt;  // same as absent: every symbol
  simdjson::dom::array array;
  if (value.get_array().get(array)) return Bad("\"symbols\" must be an array of symbol strings");
  if (array.size() == 0) return Bad("\"symbols\" is empty; omit it to receive every symbol");
  if (array.size() > kMaxSymbolsPerRequest) {
    return Bad(absl::StrCat("\"symbols\" has more than ", kMaxSymbolsPerRequest, " entries"));
  }
  std::vector<std::string> symbols;
  symbols.reserve(array.size());
  for (simdjson::dom::element item : array) {
    std::string_view raw;
    if (item.get_string().get(raw)) return Bad("\"symbols\" must be an array of symbol strings");
    std::string symbol;
    if (!schema::NormalizeSymbol(raw, symbol).ok()) {
      return Bad(absl::StrCat("bad symbol ", Quote(raw), ": expected [A-Za-z0-9._-]{1,32}"));
    }
    symbols.push_back(std::move(symbol));
  }
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  out = std::move(symbols);
  return std::nullopt;
}

}  // namespace

std::optional<RequestError> ParseClientRequest(std::string_view text, ClientRequest& out) {
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  padded.assign(text);
  padded.reserve(text.size() + schema::kJsonPadding);
  simdjson::dom::element doc;
  if (auto error = parser.parse(padded.data(), padded.size(), false).get(doc)) {
    return RequestError{ClientError::kBadJson,
                        absl::StrCat("invalid JSON: ", simdjson::error_message(error))};
  }
  simdjson::dom::object object;
  if (doc.get_object().get(object)) return RequestError{ClientError::kBadJson, "expected a JSON object"};
  std::string_view type;
  if (object["type"].get_string().get(type)) return Bad("missing string field \"type\"");

  out = ClientRequest{};
  if (type == "ping") {
    out.type = ClientRequest::Type::kPing;
    return std::nullopt;
  }
  if (type == "subscribe") {
    out.type = ClientRequest::Type::kSubscribe;
  } else if (type == "unsubscribe") {
    out.type = ClientRequest::Type::kUnsubscribe;
  } else {
    return Bad(absl::StrCat("unknown type ", Quote(type), "; expected subscribe, unsubscribe or ping"));
  }
  simdjson::dom::element channel;
  if (object["channel"].get(channel) == simdjson::NO_SUCH_FIELD) {
    out.channel = std::string(schema::kStateUpdateChannel);
  } else {
    std::string_view name;
    if (channel.get_string().get(name)) return Bad("\"channel\" must be a string");
    out.channel = std::string(name);
  }
  if (out.type == ClientRequest::Type::kSubscribe) {
    simdjson::dom::element symbols;
    if (object["symbols"].get(symbols) != simdjson::NO_SUCH_FIELD) {
      if (auto e = ParseSymbols(symbols, out.symbols)) return e;
    }
  }
  return std::nullopt;
}

}  // namespace physics::bridge
