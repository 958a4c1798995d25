#pragma once
// Drives a sqlite_store from the hub's changes on the io_context thread. Durable changes (see
// progress/record_store.hpp) are committed inside after_call, before hub_service kicks any
// session, so no ack, HTTP 200/201 or fan-out precedes the commit; write-behind changes wait for
// the persist timer and go out in one transaction. A failed commit marks the hub unavailable
// (publishes and creations -> `unavailable` / 503), keeps the batch and retries it on the timer.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/net.hpp"
#include "progress/hub.hpp"
#include "store/sqlite_store.hpp"

namespace progress::server {

class store_writer {
 public:
  // `interval` 0 writes every change at once (no write-behind).
  store_writer(net::io_context& ioc, std::unique_ptr<sqlite_store> store, loaded_records loaded,
               std::chrono::milliseconds interval, const logger& log);
  // Writes what is still pending and marks the store clean.
  ~store_writer();
  store_writer(const store_writer&) = delete;
  store_writer& operator=(const store_writer&) = delete;

  // Loads the stored records into `hub` (which must outlive this writer) under the restore rule.
  void restore(Hub& hub, Now now);
  // After every hub call, before anything is sent.
  void after_call();
  // Shutdown: write the pending batch now instead of on the timer.
  void flush();
  // False while the last commit failed.
  bool healthy() const noexcept { return healthy_; }

 private:
  void collect();
  bool commit();
  void arm_timer();

  std::unique_ptr<sqlite_store> store_;
  loaded_records loaded_;
  std::chrono::milliseconds interval_;
  const logger& log_;
  net::steady_timer timer_;
  bool timer_armed_ = false;
  Hub* hub_ = nullptr;
  std::vector<RecordChange> taken_;
  std::map<std::string, RecordChange> pending_;  // newest change per id, not yet committed
  bool urgent_ = false;                          // pending_ holds a durable change
  bool healthy_ = true;
};

// Opens <dir>/progress.db and reads it; nullptr and `error` (for the operator) when the hub must not
// start: not a progress-hub database, a newer schema, in use by another hub, unreadable.
std::unique_ptr<store_writer> open_store_writer(net::io_context& ioc, const std::filesystem::path& dir,
                                                durability_level durability,
                                                std::chrono::milliseconds interval, const logger& log,
                                                std::string& error);

}  // namespace progress::server
