// A small blocking WebSocket and HTTP/1.1 client for the bridge's integration
// tests. The handshake and plain requests go through engine/http_client; the
// frames are read and written on the raw socket here, so tests can also send
// what a well-behaved client never would (binary, oversized, unmasked frames)
// and can stop reading on purpose. Not thread-safe: one owner thread.
//
//   absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port);
//   ws->SendText(R"({"type":"ping"})");
//   absl::StatusOr<WsTestClient::Frame> f = ws->ReadFrame(absl::Seconds(2));
#ifndef PHYSICS_BRIDGE_TESTING_WS_TEST_CLIENT_H_
#define PHYSICS_BRIDGE_TESTING_WS_TEST_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/ws_codec.h"

namespace physics::bridge::testing {

class WsTestClient {
 public:
  struct Frame {
    Opcode opcode = Opcode::kText;
    std::string payload;
    uint16_t close_code = 0;  // for kClose frames with a code
  };

  // Connects to 127.0.0.1:port and performs the handshake. receive_buffer > 0
  // sets SO_RCVBUF first (a small window makes a client that never reads
  // stall the server's writes quickly). `target` is the request target and
  // `extra_headers` lines ("Name: value\r\n" each) are added to the request.
  // A refused handshake is kFailedPrecondition with the response's head.
  static absl::StatusOr<WsTestClient> Connect(int port, int receive_buffer = 0,
                                              std::string_view target = "/ws",
                                              std::string_view extra_headers = "");

  WsTestClient(WsTestClient&& other) noexcept;
  WsTestClient& operator=(WsTestClient&& other) noexcept;
  WsTestClient(const WsTestClient&) = delete;
  WsTestClient& operator=(const WsTestClient&) = delete;
  ~WsTestClient();

  absl::Status SendText(std::string_view text);
  absl::Status SendFrame(Opcode opcode, bool fin, std::string_view payload);
  absl::Status SendRaw(std::string_view bytes);

  // The next frame, waiting up to `timeout`. kDeadlineExceeded when none
  // came, kUnavailable when the connection ended.
  absl::StatusOr<Frame> ReadFrame(absl::Duration timeout);
  // The next text frame's payload (control frames other than close skipped;
  // a close is an error naming its code).
  absl::StatusOr<std::string> ReadText(absl::Duration timeout);

  // For tests that parse the server's bytes themselves. Exactly `n` bytes
  // from the connection, waiting up to `timeout`: kDeadlineExceeded when they
  // did not all come, kUnavailable when the connection ended first (bytes
  // that did come stay for the next read).
  absl::StatusOr<std::string> ReadRaw(size_t n, absl::Duration timeout);
  // OK once the server has ended the connection cleanly (end of stream) with
  // nothing left to read; kUnavailable for a reset, kFailedPrecondition when
  // bytes arrive instead, kDeadlineExceeded when it stays open.
  absl::Status WaitForClose(absl::Duration timeout);

 private:
  explicit WsTestClient(int fd) : fd_(fd) {}
  // Appends what arrives within `timeout` to buffer_; false on EOF/error/timeout.
  absl::Status Fill(absl::Time deadline);

  int fd_ = -1;
  std::string buffer_;
};

struct HttpResponse {
  int status = 0;
  std::string headers;  // the status line and header lines, as received
  std::string body;
};

// One request to 127.0.0.1:port with "Connection: close"; reads the whole
// response (errors as http::Fetch's).
// `extra_headers`: lines ("Name: value\r\n" each) added to the request.
absl::StatusOr<HttpResponse> HttpRequest(int port, std::string_view method, std::string_view path,
                                         absl::Duration timeout = absl::Seconds(5),
                                         std::string_view extra_headers = "");

}  // namespace physics::bridge::testing

#endif  // PHYSICS_BRIDGE_TESTING_WS_TEST_CLIENT_H_
