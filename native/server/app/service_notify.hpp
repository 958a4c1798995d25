#pragma once
// What the service manager is told (systemd's Type=notify, sd_notify(3)): ready once the listener is
// bound, reloading around SIGHUP, stopping on SIGTERM. A no-op when the hub was built without
// libsystemd or runs outside systemd (no NOTIFY_SOCKET).
#include <string>

namespace progress::server {

// Whether this build can notify at all (for the start log).
bool service_notify_built_in();

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();

}  // namespace progress::server
