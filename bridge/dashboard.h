// The live dashboard page served at GET / (dashboard.html, embedded into the
// binary at build time so the bridge serves it offline, with no CDN).
// Thread-safe: a constant.
#ifndef PHYSICS_BRIDGE_DASHBOARD_H_
#define PHYSICS_BRIDGE_DASHBOARD_H_

#include <string_view>

namespace physics::bridge {

// The whole HTML document (with its CSS and JavaScript inline).
std::string_view DashboardHtml();

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_DASHBOARD_H_
