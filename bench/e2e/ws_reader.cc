#include "bench/e2e/ws_reader.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/ws_codec.h"
#include "engine/http_client/http_client.h"
#include "engine/schema/timestamp.h"

namespace physics::bench::e2e {

absl::Status ConnectTcp(Client& c, int port) {
  c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect: ", strerror(errno)));
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return absl::OkStatus();
}

absl::Status Connect(Client& c, int port, int receive_buffer) {
  absl::StatusOr<http::WebSocketConnection> ws =
      http::UpgradeToWebSocket(http::Url{"127.0.0.1", std::to_string(port), "/ws"}, absl::Seconds(10),
                               http::WebSocketOptions{.receive_buffer = receive_buffer});
  if (!ws.ok()) return ws.status();
  c.fd = ws->fd;
  c.carry = std::move(ws->pending);
  std::string subscribe;
  bridge::AppendMaskedFrame(bridge::Opcode::kText, true,
                            R"({"type":"subscribe","channel":"state_update"})", 0x12345678, subscribe);
  if (::send(c.fd, subscribe.data(), subscribe.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(subscribe.size())) {
    return absl::UnavailableError("subscribe write failed");
  }
  return absl::OkStatus();
}

Reader::Reader(const std::vector<std::string>& symbols,
               const absl::flat_hash_map<std::string, int>& symbol_index, size_t expected_messages)
    : symbols_(symbols), symbol_index_(symbol_index) {
  // Touched now so that recording a latency never takes a page fault.
  latencies_ms_.assign(expected_messages, 0);
  latencies_ms_.clear();
  stamps_.assign(expected_messages, 0);
  stamps_.clear();
}

bool Reader::Drain(Client& c, bool measuring, int64_t measure_from) {
  std::memcpy(scratch_.data(), c.carry.data(), c.carry.size());
  size_t used = c.carry.size();
  while (true) {
    if (used == scratch_.size()) scratch_.resize(scratch_.size() * 2);  // a frame larger than the buffer
    const size_t room = scratch_.size() - used;
    const ssize_t n = ::recv(c.fd, scratch_.data() + used, room, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    used += static_cast<size_t>(n);
    const int64_t done = HandleFrames(c, std::string_view(scratch_.data(), used), schema::NowEpochMicros(),
                                      measuring, measure_from);
    if (done < 0) return false;
    std::memmove(scratch_.data(), scratch_.data() + done, used - static_cast<size_t>(done));
    used -= static_cast<size_t>(done);
    // A short read took everything there was; epoll (level-triggered) calls
    // again when more arrives, so no extra recv just to see EAGAIN.
    if (static_cast<size_t>(n) < room) break;
  }
  c.carry.assign(scratch_.data(), used);
  return true;
}

int64_t Reader::HandleFrames(Client& c, std::string_view data, int64_t now, bool measuring,
                             int64_t measure_from) {
  size_t pos = 0;
  while (data.size() - pos >= 2) {
    const auto* p = reinterpret_cast<const uint8_t*>(data.data() + pos);
    const int opcode = p[0] & 0x0f;
    uint64_t len = p[1] & 0x7f;
    size_t header = 2;
    if (len == 126) {
      if (data.size() - pos < 4) break;
      len = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (len == 127) {
      if (data.size() - pos < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      header = 10;
    }
    if (data.size() - pos < header + len) break;
    const std::string_view payload(data.data() + pos + header, len);
    pos += header + len;
    if (opcode == 0x8) return -1;
    if (opcode != 0x1) continue;
    const std::optional<std::string_view> event = MessageData(payload);
    EventFields h;
    if (!event || !parser_.Parse(*event, h)) continue;
    // A tick's messages come in the same symbol order every time: the one
    // after the previous message's symbol is tried before the hash table.
    size_t index = c.next_symbol;
    if (index >= symbols_.size() || symbols_[index] != h.symbol) {
      const auto it = symbol_index_.find(absl::string_view(h.symbol.data(), h.symbol.size()));
      if (it == symbol_index_.end()) continue;
      index = static_cast<size_t>(it->second);
    }
    c.next_symbol = index + 1;
    int64_t& last = c.last_seq[index];
    if (measuring && last > 0 && h.seq > last + 1) lost += h.seq - last - 1;
    if (h.seq > last) last = h.seq;
    if (measuring && h.timestamp != 0 && h.timestamp >= measure_from) {
      ++delivered;
      latencies_ms_.push_back(static_cast<float>(now - h.timestamp) / 1000.0f);
      stamps_.push_back(h.timestamp);
    }
  }
  return static_cast<int64_t>(pos);
}

}  // namespace physics::bench::e2e
