#pragma once

#include <cstdint>
#include <string>

namespace progress::bench {

// How a churn client leaves once it holds the terminal snapshot.
enum class close_mode : std::uint8_t {
  reset,      // abortive close (SO_LINGER 0, a RST): a page that navigates away; no TIME_WAIT
  handshake,  // close frame, wait for the server's, then close: the cycle ends at the server's close
};

// One run's shape. Every phase is bounded by a deadline so a stuck server ends the run with an
// error instead of hanging it.
struct scenario {
  std::string name;
  std::uint32_t subscribers = 0;
  std::uint32_t processes = 1;
  double publish_rate = 0;             // publishes per second; 0 = as fast as the window allows
  std::uint32_t window = 256;          // publishes in flight (sent, not yet acked)
  double duration_s = 10;              // measured phase
  bool finished_processes = false;     // processes completed before subscribers join
  bool publish = true;                 // false: idle, churn, late-join-storm
  std::uint32_t churn_concurrency = 0; // > 0: churn mode with that many clients at once
  close_mode churn_close = close_mode::reset;
  std::uint32_t connect_batch = 1000;  // connects started at once while setting up subscribers
  double hold_s = 0;                   // idle: how long to hold the connections before sampling
};

}  // namespace progress::bench
