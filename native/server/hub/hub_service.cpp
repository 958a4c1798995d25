#include "hub/hub_service.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "base/process_ids.hpp"

namespace progress::server {
namespace {

HubConfig with_random_ids(HubConfig config) {
  if (!config.process_ids) config.process_ids = random_process_id;
  return config;
}

}  // namespace

Millis wall_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Now clock_now() {
  const auto mono = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
  return Now{MonoMillis(mono.count()), wall_now()};
}

Now hub_service::now() const {
  if (!scripted_clock_) return clock_now();
  return Now::scripted(scripted_clock_());
}

hub_service::hub_service(net::io_context& ioc, HubConfig config, std::uint64_t seed, const logger& log,
                         std::unique_ptr<store_writer> store, std::function<Millis()> scripted_clock)
    : hub_(with_random_ids(std::move(config)), scripted_clock ? Now::scripted(scripted_clock()) : clock_now(), seed),
      store_(std::move(store)),
      log_(log), ioc_(ioc), timer_(ioc), scripted_clock_(std::move(scripted_clock)) {
  if (store_) store_->restore(hub_, now());
  arm_timer();
}

ConnId hub_service::open(const Target& target, std::weak_ptr<stream_sink> sink) {
  const ConnId conn = hub_.open(target, now());
  const void* object = sink.lock().get();
  sinks_.emplace(conn, sink_entry{std::move(sink), object});
  return conn;
}

void hub_service::deliver() { after_call(); }

void hub_service::on_text(ConnId conn, std::string_view text) {
  hub_.on_text(conn, text, now());
  after_call();
}

void hub_service::on_binary(ConnId conn) {
  hub_.on_binary(conn, now());
  after_call();
}

void hub_service::on_oversize(ConnId conn) {
  hub_.on_oversize(conn, now());
  after_call();
}

void hub_service::on_control(ConnId conn) {
  // Every socket answers a control ping per heartbeat: this moves a deadline and writes nothing, so
  // it skips the store, the authority and the kick pass.
  hub_.on_control(conn, now());
  arm_timer();
}

void hub_service::on_closed(ConnId conn) {
  const auto it = sinks_.find(conn);
  if (it == sinks_.end() || it->second.closed) return;
  if (kicking_) {
    // kick_dirty holds pointers to entries: this one goes when it is done.
    it->second.closed = true;
    closed_while_kicking_.push_back(conn);
  } else {
    sinks_.erase(it);
  }
  hub_.on_closed(conn);
  after_call();
}

// The change was applied in memory but its commit failed: the caller must not count on it.
Error hub_service::store_unavailable() const {
  return Error{ErrorCode::unavailable, "the progress store cannot write; try again later", std::nullopt,
               std::nullopt};
}

Result<Snapshot> hub_service::create_process(std::optional<std::string> process_id) {
  auto result = hub_.create_process(std::move(process_id), now());
  after_call();
  if (result && store_ && !store_->healthy()) return store_unavailable();
  return result;
}

Result<Ack> hub_service::publish(const Publish& publish) {
  auto result = hub_.publish(publish, now());
  after_call();
  if (result && store_ && !store_->healthy()) return store_unavailable();
  return result;
}

std::optional<Snapshot> hub_service::snapshot(std::string_view process_id) const {
  return hub_.snapshot(process_id);
}

std::optional<SharedText> hub_service::poll_outgoing(ConnId conn) { return hub_.poll_outgoing(conn); }

std::size_t hub_service::poll_outgoing(ConnId conn, std::vector<SharedText>& out, std::size_t max_frames,
                                       std::size_t max_bytes) {
  return hub_.poll_outgoing(conn, out, max_frames, max_bytes);
}

std::optional<CloseRequest> hub_service::poll_close(ConnId conn) { return hub_.poll_close(conn); }

void hub_service::shutdown(std::function<void()> drained) {
  if (stopping_) return;
  stopping_ = true;
  drained_ = std::move(drained);
  log_.info("shutdown", {{"streams", std::to_string(sinks_.size())}});
  hub_.close_all(now());
  after_call();
  if (store_) store_->flush();
}

HubStats hub_service::stats() const { return hub_.stats(); }

std::size_t hub_service::total_queued_bytes() const {
  std::size_t total = 0;
  for (const auto& [conn, sink] : sinks_) total += hub_.queued_bytes(conn);
  return total;
}

void hub_service::after_call() {
  // Durable changes are committed before any session is kicked or any HTTP reply is written.
  if (store_) store_->after_call();
  if (authority_ != nullptr) authority_->pump();
  if (!kick_posted_) {
    kick_posted_ = true;
    net::post(ioc_, [this] { kick_dirty(); });
  }
  arm_timer();
  if (stopping_ && sinks_.empty() && drained_) {
    auto drained = std::move(drained_);
    drained_ = nullptr;
    drained();
  }
}

void hub_service::kick_dirty() {
  kick_posted_ = false;
  // Kicking may end a session (a failed write), which calls on_closed and so after_call again; that
  // posts a new turn rather than touching the list being walked.
  dirty_.clear();
  hub_.poll_dirty(dirty_);
  // Every session is looked up before any is kicked, so the lookups' cache misses overlap instead of
  // each waiting behind the previous session's write; the sessions a few places ahead are prefetched
  // so that each kick finds its own in cache (a cold session was 3% of fan-out time).
  kick_list_.clear();
  for (const ConnId conn : dirty_) {
    const auto it = sinks_.find(conn);
    if (it != sinks_.end() && !it->second.closed) kick_list_.push_back(&it->second);
  }
  dirty_.clear();
  constexpr std::size_t kPrefetchAhead = 4;
  const std::size_t count = kick_list_.size();
  for (std::size_t i = 0; i < count && i < kPrefetchAhead; ++i) __builtin_prefetch(kick_list_[i]->object);
  kicking_ = true;
  for (std::size_t i = 0; i < count; ++i) {
    if (i + kPrefetchAhead < count) __builtin_prefetch(kick_list_[i + kPrefetchAhead]->object);
    if (kick_list_[i]->closed) continue;
    if (auto sink = kick_list_[i]->sink.lock()) sink->kick();
  }
  kicking_ = false;
  kick_list_.clear();
  const bool erased = !closed_while_kicking_.empty();
  for (const ConnId conn : closed_while_kicking_) sinks_.erase(conn);
  closed_while_kicking_.clear();
  if (after_kick_pass_ && count > 0) after_kick_pass_();
  if (erased) after_call();  // the shutdown's drain waits for the last stream to be erased
}

void hub_service::tick() {
  hub_.handle_timeout(now());
  after_call();
}

void hub_service::arm_timer() {
  if (scripted_clock_) return;
  // Once shut down and every stream is gone, nothing may keep the io_context alive.
  const auto at = (stopping_ && sinks_.empty()) ? std::nullopt : hub_.poll_timeout();
  if (at == armed_at_) return;
  armed_at_ = at;
  if (!at) {
    timer_.cancel();
    return;
  }
  const Millis delay = std::max<Millis>(0, *at - now().mono);
  timer_.expires_after(std::chrono::milliseconds(delay));
  timer_.async_wait([this](error_code ec) { on_timer(ec); });
}

void hub_service::on_timer(error_code ec) {
  if (ec == net::error::operation_aborted) return;
  armed_at_.reset();
  hub_.handle_timeout(now());
  after_call();
}

}  // namespace progress::server
