#pragma once
// Counters the hub does not keep (HTTP traffic, uploads) and the Prometheus text of /metrics.
// Touched only from the io_context thread.
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "hub/hub_service.hpp"

namespace progress::server {

struct http_metrics {
  // (route, status) -> requests; routes are a fixed set of labels, never raw paths.
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests;
  std::uint64_t uploads_accepted = 0;
  std::uint64_t upload_bytes = 0;
  std::uint64_t jobs_completed = 0;
  std::uint64_t jobs_failed = 0;
  std::uint64_t handler_failures = 0;  // exceptions caught while handling one connection
  MonoMillis started_at;  // uptime runs on the monotonic clock: a wall-clock step leaves it alone

  void count(std::string route, unsigned status) { ++requests[{std::move(route), status}]; }
};

std::string render_metrics(const hub_service& hub, const http_metrics& http);

}  // namespace progress::server
