// A minimal HTTP/1.1 GET over a plain TCP socket, for probing the bridge's
// /healthz from physics-status (and from a container's healthcheck, where
// there is no curl). http:// only; the whole exchange is bounded by a timeout.
// Thread-safe: no shared state.
#ifndef PHYSICS_TOOLS_STATUS_HTTP_PROBE_H_
#define PHYSICS_TOOLS_STATUS_HTTP_PROBE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace physics::ops {

struct HttpUrl {
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::string port = "80";
  std::string path = "/";
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Parses "http://HOST[:PORT][/PATH]". kInvalidArgument saying what is accepted.
absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

// GETs `url` with "Connection: close" and reads the response until EOF (or
// Content-Length bytes of body). kUnavailable when the host cannot be
// resolved or reached, or the connection breaks; kDeadlineExceeded when the
// whole exchange takes longer than `timeout`; kInternal for a response that
// is not HTTP.
absl::StatusOr<HttpResponse> HttpGet(const HttpUrl& url, absl::Duration timeout);

}  // namespace physics::ops

#endif  // PHYSICS_TOOLS_STATUS_HTTP_PROBE_H_
