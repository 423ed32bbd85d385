// What a Redis Cluster error reply asks the client to do: MOVED and ASK name
// the node to go to, TRYAGAIN asks for a retry shortly, CLUSTERDOWN says the
// cluster cannot serve now. Used by Cluster::Command and ClusterPipeline.
// Thread-safety: pure function; no allocation.
#ifndef PHYSICS_ENGINE_REDIS_INTERNAL_CLUSTER_REDIRECT_H_
#define PHYSICS_ENGINE_REDIS_INTERNAL_CLUSTER_REDIRECT_H_

#include <cstdint>
#include <string_view>

#include "absl/time/time.h"

namespace physics::redis::internal {

// How long to wait before resending after TRYAGAIN (a multi-key command met a
// slot in migration; Redis suggests a short wait).
inline constexpr absl::Duration kTryAgainPause = absl::Milliseconds(15);

struct Redirect {
  enum class Kind { kNone, kMoved, kAsk, kTryAgain, kClusterDown };
  Kind kind = Kind::kNone;
  uint16_t slot = 0;           // kMoved, kAsk
  std::string_view host;       // kMoved, kAsk: a view into the error text; ""
                               // means the host of the node that replied
  int port = 0;                // kMoved, kAsk
};

// "MOVED 3999 127.0.0.1:6381", "ASK 3999 ::1:6381", "MOVED 3999 :6381",
// "TRYAGAIN ...", "CLUSTERDOWN ..."; kNone for anything else, including a
// MOVED/ASK whose slot or address does not parse.
Redirect ParseRedirect(std::string_view error_text);

}  // namespace physics::redis::internal

#endif  // PHYSICS_ENGINE_REDIS_INTERNAL_CLUSTER_REDIRECT_H_
