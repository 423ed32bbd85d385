// SIGINT/SIGTERM handling for the programs' main loops (physics-engine's tick
// loop, physics-publish): the handler only sets a flag and writes to an
// eventfd, so a loop waiting for its next tick wakes at once. It is the
// feeds' Interrupt, so a feed waiting for data wakes too.
// Thread-safe: requested() and WaitUntil() may be called from any thread;
// at most one ShutdownSignal may exist (it owns the process's handlers).
#ifndef PHYSICS_ENGINE_SHUTDOWN_SHUTDOWN_SIGNAL_H_
#define PHYSICS_ENGINE_SHUTDOWN_SHUTDOWN_SIGNAL_H_

#include "engine/feed/feed.h"

namespace physics::shutdown {

class ShutdownSignal final : public feed::Interrupt {
 public:
  ShutdownSignal();   // installs the handlers
  ~ShutdownSignal() override;  // restores the default handlers
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  bool requested() const override;
  bool WaitUntil(feed::SteadyTime deadline) const override;
  // Asks for shutdown as a signal would (tests, --duration).
  void Request();
};

}  // namespace physics::shutdown

#endif  // PHYSICS_ENGINE_SHUTDOWN_SHUTDOWN_SIGNAL_H_
