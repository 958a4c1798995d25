#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "histogram.hpp"
#include "scenario.hpp"

namespace progress::bench {

struct target {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::uint16_t publish_port = 0;  // > 0: the publisher uses another node (two nodes on one Redis)
  int server_pid = 0;  // > 0: sample the server's RSS from /proc (idle scenario)
  bool io_uring = true;  // read through io_uring (batch_recv.hpp) where the kernel allows it
};

struct result {
  std::string error;  // non-empty: the run did not complete; the numbers are partial
  double measured_s = 0;
  std::uint64_t published = 0;
  std::uint64_t acked = 0;
  std::uint64_t delivered = 0;   // progress frames received by subscribers in the measured phase
  std::uint64_t duplicates = 0;  // seq not above the last one seen on that socket
  std::uint64_t undelivered = 0; // acked events a subscriber never received (gaps + missing tail)
  std::uint64_t error_frames = 0;
  std::uint64_t unexpected_closes = 0;
  std::uint64_t cycles = 0;      // churn: connect + terminal snapshot + close
  double setup_s = 0;            // time until every subscriber held its snapshot
  double rss_per_conn_bytes = 0;
  double generator_cpu = 0;      // generator CPU time / wall time over the measured phase
  histogram latency_us;
};

// Runs one scenario against target; single thread, epoll, non-blocking sockets.
result run(const scenario& sc, const target& tg);

}  // namespace progress::bench
