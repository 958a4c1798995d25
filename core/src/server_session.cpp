#include "progress/server_session.hpp"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "progress/codec.hpp"

namespace progress {
namespace {

SharedText shared(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// Queue storage a drained connection keeps (more is released): enough for a usual burst.
constexpr std::size_t kKeptQueueEntries = 16;

std::size_t frame_rate(Endpoint endpoint, const HubConfig& config) {
  return endpoint == Endpoint::publish ? config.max_publish_frames_per_s : config.max_frames_per_s;
}

}  // namespace

ServerSession::ServerSession(Endpoint endpoint, const HubConfig& config, SessionCounters& counters,
                             Now now)
    : endpoint_(endpoint),
      config_(config),
      counters_(counters),
      last_heard_(now.mono),
      next_ping_(now.mono + config.heartbeat_ms) {
  if (endpoint_ == Endpoint::health) next_health_ = now.mono + config.health_interval_ms;
  // Producers are authenticated by the API key and publish at their job's pace: their limit is
  // separate and off by default, so the benchmark publisher is never throttled.
  if (const std::size_t rate = frame_rate(endpoint_, config); rate > 0) {
    rate_.emplace(static_cast<double>(rate), static_cast<double>(config.frame_burst), config.rate_limit_grace,
                  now.mono);
  }
}

bool ServerSession::admit_frame(Now now) {
  if (!rate_) return true;
  const RateVerdict verdict = rate_->on_frame(now.mono);
  if (verdict == RateVerdict::admit) return true;
  if (endpoint_ != Endpoint::test_echo) {
    send_error(Error{ErrorCode::rate_limited,
                     "more than " + std::to_string(frame_rate(endpoint_, config_)) + " frames/s (burst " +
                         std::to_string(config_.frame_burst) + "); the frame was not processed",
                     std::nullopt, std::nullopt});
  }
  if (verdict == RateVerdict::close) close(1008, "rate limited");
  return false;
}

std::optional<Error> ServerSession::authorize(const std::string& process_id,
                                              const std::optional<std::string>& token, Now now) const {
  if (!config_.subscription_check) return std::nullopt;
  auto refusal = config_.subscription_check(process_id, token.value_or(std::string()), now.wall);
  if (!refusal) return std::nullopt;
  return Error{ErrorCode::unauthorized, "subscription to " + process_id + " refused: " + refusal->message,
               process_id, std::nullopt, refusal->reason};
}

std::optional<ClientFrame> ServerSession::on_text(std::string_view text, Now now) {
  if (closing()) return std::nullopt;  // the close is decided; nothing more is answered
  heard(now);
  ++counters_.frames_in;
  if (text.size() > config_.max_frame_bytes) {
    on_oversize(now);
    return std::nullopt;
  }
  if (!admit_frame(now)) return std::nullopt;
  // The one text frame that is not JSON: legacy clients send `ping` on a timer and expect `pong`.
  if (text == "ping" || endpoint_ == Endpoint::test_echo) {
    push(OutFrame{shared(text == "ping" ? std::string("pong") : std::string(text)), FrameKind::control,
                  nullptr, 0});
    return std::nullopt;
  }
  auto decoded = decode_client_frame(text);
  if (!decoded) {
    send_error(decoded.error());
    return std::nullopt;
  }
  ClientFrame& frame = decoded.value();
  if (const auto* ping = std::get_if<Ping>(&frame)) {
    send(Pong{ping->ts});
    return std::nullopt;
  }
  if (std::holds_alternative<Pong>(frame)) return std::nullopt;  // only proves the peer is alive
  if (const auto* publish = std::get_if<Publish>(&frame); publish && endpoint_ != Endpoint::publish) {
    send_error(Error{ErrorCode::unauthorized, "publish is only accepted on /ws/publish", publish->process_id,
                     publish->id});
    return std::nullopt;
  }
  if (const auto* subscribe = std::get_if<Subscribe>(&frame)) {
    if (auto refused = authorize(subscribe->process_id, subscribe->token, now)) {
      send_error(std::move(*refused));
      return std::nullopt;
    }
  }
  return std::move(frame);
}

void ServerSession::on_binary(Now now) {
  if (closing()) return;
  heard(now);
  ++counters_.frames_in;
  // The echo endpoint is raw text: it gets no JSON error, only the close.
  if (endpoint_ != Endpoint::test_echo) {
    send_error(Error{ErrorCode::bad_frame, "binary frames are not accepted; send JSON text", std::nullopt,
                     std::nullopt});
  }
  close(1003, "binary frames are not supported");
}

void ServerSession::on_oversize(Now now) {
  if (closing()) return;
  heard(now);
  if (endpoint_ != Endpoint::test_echo) {
    send_error(Error{ErrorCode::too_large,
                     "frame exceeds the limit of " + std::to_string(config_.max_frame_bytes) + " bytes",
                     std::nullopt, std::nullopt});
  }
  close(1009, "frame too large");
}

bool ServerSession::on_timer(Now now) {
  if (closing()) return false;
  if (detects_stale() && now.mono >= last_heard_ + config_.heartbeat_ms + config_.stale_grace_ms) {
    close(1001, "stale");
    return false;
  }
  if (has_heartbeat() && now.mono >= next_ping_) {
    send(Ping{now.wall});
    // The control ping goes with the JSON one, so a socket costs one of each per heartbeat. A client
    // need not answer the JSON ping: its browser's automatic pong is the sign of life.
    if (sends_control_pings()) control_ping_due_ = true;
    next_ping_ = now.mono + config_.heartbeat_ms;  // missed beats are not caught up: one ping is enough
  }
  if (next_health_ && now.mono >= *next_health_) {
    next_health_ = now.mono + config_.health_interval_ms;
    return true;
  }
  return false;
}

std::optional<MonoMillis> ServerSession::next_deadline() const {
  if (closing()) return std::nullopt;
  std::optional<MonoMillis> next = next_health_;
  auto earliest = [&next](MonoMillis at) { next = next ? std::min(*next, at) : at; };
  if (has_heartbeat()) earliest(next_ping_);
  if (detects_stale()) earliest(last_heard_ + config_.heartbeat_ms + config_.stale_grace_ms);
  return next;
}

PushResult ServerSession::push(OutFrame frame) {
  if (closing()) return PushResult::ignored;
  queued_bytes_ += frame.text->size();
  queue_.push_back(std::move(frame));
  if (queued_bytes_ <= config_.max_queue_bytes) return PushResult::queued;
  conflate();
  if (queued_bytes_ <= config_.max_queue_bytes) return PushResult::conflated;
  // Still over the bound: the client is not reading. It resumes with after_seq after the close.
  queue_ = {};
  head_ = 0;
  queued_bytes_ = 0;
  ++counters_.slow_disconnects;
  close(1013, "slow consumer");
  return PushResult::closed_slow;
}

void ServerSession::conflate() {
  std::vector<FrameTag> tags;
  tags.reserve(queue_.size() - head_);
  for (std::size_t i = head_; i < queue_.size(); ++i) {
    const OutFrame& frame = queue_[i];
    tags.push_back(FrameTag{frame.process_id ? std::string_view(*frame.process_id) : std::string_view{},
                            frame.seq, frame.kind});
  }
  const auto drop = frames_to_drop(tags);
  if (drop.empty()) return;
  std::vector<OutFrame> kept;
  kept.reserve(tags.size() - drop.size());
  std::size_t next_drop = 0;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (next_drop < drop.size() && drop[next_drop] == i) {
      queued_bytes_ -= queue_[head_ + i].text->size();
      ++next_drop;
    } else {
      kept.push_back(std::move(queue_[head_ + i]));
    }
  }
  queue_ = std::move(kept);
  head_ = 0;
  counters_.conflated += drop.size();
}

void ServerSession::send(const ServerFrame& frame) {
  push(OutFrame{shared(encode(frame)), FrameKind::control, nullptr, 0});
}

void ServerSession::send_error(Error error) {
  ++counters_.errors[error.code];
  send(ServerFrame{std::move(error)});
}

void ServerSession::close(int code, std::string reason) {
  if (!close_) close_ = CloseRequest{code, std::move(reason)};
}

std::optional<SharedText> ServerSession::poll_outgoing() {
  if (queue_empty()) return std::nullopt;
  SharedText text = std::move(queue_[head_++].text);
  after_pop();
  queued_bytes_ -= text->size();
  ++counters_.frames_out;
  return text;
}

void ServerSession::after_pop() {
  // Drained: start over at the front; a queue that grew past a burst gives its storage back.
  if (queue_empty()) {
    if (queue_.capacity() > kKeptQueueEntries) {
      queue_ = {};
    } else {
      queue_.clear();
    }
    head_ = 0;
    return;
  }
  // A connection that always has something queued never drains: drop the sent entries once they
  // are the larger part, so the vector stays within twice the live queue.
  if (head_ >= kKeptQueueEntries && head_ * 2 >= queue_.size()) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

std::size_t ServerSession::poll_outgoing(std::vector<SharedText>& out, std::size_t max_frames,
                                         std::size_t max_bytes) {
  std::size_t taken = 0;
  std::size_t bytes = 0;
  while (taken < max_frames && bytes < max_bytes && !queue_empty()) {
    SharedText& text = queue_[head_++].text;
    bytes += text->size();
    out.push_back(std::move(text));
    ++taken;
  }
  if (taken > 0) after_pop();
  queued_bytes_ -= bytes;
  counters_.frames_out += taken;
  return taken;
}

std::optional<CloseRequest> ServerSession::poll_close() {
  if (!close_ || close_taken_ || !queue_empty()) return std::nullopt;
  close_taken_ = true;
  return close_;
}

}  // namespace progress
