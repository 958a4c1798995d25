#include "store/store_writer.hpp"

#include <utility>

namespace progress::server {

store_writer::store_writer(net::io_context& ioc, std::unique_ptr<sqlite_store> store, loaded_records loaded,
                           std::chrono::milliseconds interval, const logger& log)
    : store_(std::move(store)), loaded_(std::move(loaded)), interval_(interval), log_(log), timer_(ioc) {}

store_writer::~store_writer() {
  timer_.cancel();
  if (hub_ == nullptr) return;
  collect();
  std::string error;
  if (commit() && store_->mark_clean(error)) {
    log_.info("store_closed", {{"clean", "true"}});
  } else if (!error.empty()) {
    log_.error("store_close_failed", {{"error", error}});
  }
}

void store_writer::restore(Hub& hub, Now now) {
  hub_ = &hub;
  if (loaded_.unreadable > 0) {
    log_.warn("store_unreadable_records", {{"skipped", std::to_string(loaded_.unreadable)}});
  }
  const RestoreSummary summary = hub.restore(std::move(loaded_.records), loaded_.clean_shutdown, now);
  log_.info("store_restored", {{"records", std::to_string(summary.restored)},
                               {"clean_shutdown", loaded_.clean_shutdown ? "true" : "false"},
                               {"new_epochs", std::to_string(summary.new_epochs)},
                               {"skipped", std::to_string(summary.skipped)}});
  loaded_ = {};
  after_call();
}

void store_writer::after_call() {
  if (hub_ == nullptr) return;
  collect();
  // While the store is failing only the timer retries: every call would otherwise wait on the disk.
  if (healthy_ && (urgent_ || (interval_.count() == 0 && !pending_.empty()))) commit();
  if (!pending_.empty()) arm_timer();
}

void store_writer::flush() {
  if (hub_ == nullptr) return;
  collect();
  if (commit()) timer_.cancel();  // nothing left: the timer must not hold the io_context open
}

void store_writer::collect() {
  taken_.clear();
  hub_->poll_changes(taken_);
  for (auto& change : taken_) {
    urgent_ = urgent_ || change.durable;
    auto [it, inserted] = pending_.try_emplace(change.process_id, change);
    if (!inserted) {
      const bool durable = it->second.durable || change.durable;
      it->second = std::move(change);
      it->second.durable = durable;
    }
  }
}

bool store_writer::commit() {
  if (pending_.empty()) return true;
  std::vector<RecordChange> batch;
  batch.reserve(pending_.size());
  for (auto& [id, change] : pending_) batch.push_back(change);
  std::string error;
  if (!store_->write(batch, error)) {
    if (healthy_)
      log_.error("store_write_failed", {{"error", error}, {"records", std::to_string(batch.size())}});
    healthy_ = false;
    hub_->set_unavailable("the progress store cannot write (" + error + "); try again later");
    arm_timer();
    return false;
  }
  pending_.clear();
  urgent_ = false;
  if (!healthy_) {
    log_.info("store_recovered");
    healthy_ = true;
    hub_->set_unavailable(std::nullopt);
  }
  return true;
}

void store_writer::arm_timer() {
  if (timer_armed_) return;
  timer_armed_ = true;
  // A failed commit is retried at least once a second even when write-behind is off.
  timer_.expires_after(interval_.count() > 0 ? interval_ : std::chrono::milliseconds(1000));
  timer_.async_wait([this](error_code ec) {
    timer_armed_ = false;
    if (ec == net::error::operation_aborted) return;
    collect();
    commit();
  });
}

std::unique_ptr<store_writer> open_store_writer(net::io_context& ioc, const std::filesystem::path& dir,
                                                durability_level durability,
                                                std::chrono::milliseconds interval, const logger& log,
                                                std::string& error) {
  auto store = sqlite_store::open(dir / sqlite_store::kFileName, durability, error);
  if (!store) return nullptr;
  auto loaded = store->load(error);
  if (!loaded) {
    error = "cannot read " + (dir / sqlite_store::kFileName).string() + ": " + error;
    return nullptr;
  }
  return std::make_unique<store_writer>(ioc, std::move(store), std::move(*loaded), interval, log);
}

}  // namespace progress::server
