#include "app/service_notify.hpp"

#ifdef PROGRESS_WITH_SD_NOTIFY
#include <systemd/sd-daemon.h>
#endif

namespace progress::server {
namespace {

void notify(const std::string& state) {
#ifdef PROGRESS_WITH_SD_NOTIFY
  // Its answer is not acted on: a hub that cannot tell systemd is still a working hub.
  static_cast<void>(sd_notify(0, state.c_str()));
#else
  static_cast<void>(state);
#endif
}

}  // namespace

bool service_notify_built_in() {
#ifdef PROGRESS_WITH_SD_NOTIFY
  return true;
#else
  return false;
#endif
}

void notify_ready(const std::string& status) { notify("READY=1\nSTATUS=" + status); }

void notify_reloading() { notify("RELOADING=1"); }

void notify_stopping() { notify("STOPPING=1"); }

}  // namespace progress::server
