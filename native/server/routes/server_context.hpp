#pragma once
// What request handlers reach: the config, the hub, counters and the upload worker. One per server,
// used from the io_context thread only.
#include <cstdint>
#include <filesystem>

#include "access/address_limiter.hpp"
#include "config/config.hpp"
#include "hub/engine.hpp"
#include "hub/hub_service.hpp"
#include "base/log.hpp"
#include "hub/metrics.hpp"
#include "send/send_lane.hpp"
#include "jobs/upload_job.hpp"
#include "jobs/upload_quota.hpp"

namespace boost::asio::ssl {
class context;
}

namespace progress::server {

struct server_context {
  const server_config& config;
  hub_service& hub;
  engine& records;  // the HTTP process API goes through it (embedded or Redis)
  http_metrics& metrics;
  upload_worker& uploads;
  const logger& log;
  std::filesystem::path data_dir;
  std::uint64_t uploads_stored = 0;  // makes stored file names unique
  address_limiter* connections = nullptr;  // per-address connection tickets; null: no limit
  upload_quota* upload_limits = nullptr;   // uploads per address and in total; null: no limit
  boost::asio::ssl::context* tls = nullptr;  // set: every connection speaks TLS (--tls-cert)
  send_lanes* lanes = nullptr;  // --threads above 1: plain WebSocket sessions write on a lane
  send_queue* ring = nullptr;   // --threads 1 with io_uring: their writes go out in rounds on this thread
};

}  // namespace progress::server
