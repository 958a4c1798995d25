#pragma once
// One connection's protocol on the server, without the registry: greeting, heartbeat pings (a JSON
// `ping` for clients that watch the server, and a request to the driver for an RFC 6455 control
// ping, which browsers answer by themselves), stale detection, decoding what the client sends (answering ping and malformed input itself),
// the outgoing queue with its byte bound and conflation, and the close handshake. Frames that
// need the registry (subscribe, unsubscribe, publish) are handed back to the Hub.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "progress/conflation.hpp"
#include "progress/hub.hpp"
#include "progress/protocol.hpp"
#include "progress/rate_limit.hpp"
#include "progress/time.hpp"

namespace progress {

// A queued frame and what conflation needs to know about it. `process_id` is shared with every
// other connection receiving the same event.
struct OutFrame {
  SharedText text;
  FrameKind kind = FrameKind::control;
  SharedText process_id;  // null for control frames
  Seq seq = 0;
};

enum class PushResult { queued, conflated, closed_slow, ignored };

// Counters every session of one Hub adds to (for HubStats / metrics).
struct SessionCounters {
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t conflated = 0;
  std::uint64_t slow_disconnects = 0;
  std::map<ErrorCode, std::uint64_t> errors;
};

class ServerSession {
 public:
  ServerSession(Endpoint endpoint, const HubConfig& config, SessionCounters& counters, Now now);

  // Decodes one text frame. Returns the frame when the Hub must act on it (subscribe,
  // unsubscribe, publish on the publish endpoint); everything else is answered here.
  std::optional<ClientFrame> on_text(std::string_view text, Now now);
  void on_binary(Now now);
  void on_oversize(Now now);
  // A control ping or pong from the peer: only a sign of life.
  void on_control(Now now) noexcept {
    if (!closing()) heard(now);
  }
  // True once after each heartbeat of a WebSocket: the driver sends a control ping.
  bool poll_control_ping() noexcept { return std::exchange(control_ping_due_, false); }
  // The subscription token check of HubConfig: an `unauthorized` error naming the process and
  // the reason, or nullopt when the subscription may go ahead (also when no check is configured).
  std::optional<Error> authorize(const std::string& process_id, const std::optional<std::string>& token,
                                 Now now) const;
  // Heartbeat pings and stale close. Returns true when a /ws/health report is due.
  bool on_timer(Now now);
  std::optional<MonoMillis> next_deadline() const;

  PushResult push(OutFrame frame);
  void send(const ServerFrame& frame);  // encodes a control/one-off frame and queues it
  void send_error(Error error);
  // Requests a close once the queue is flushed; the first request wins.
  void close(int code, std::string reason);

  std::optional<SharedText> poll_outgoing();
  // Moves frames to `out` until `max_frames` were taken or `max_bytes` reached (the last frame may
  // cross it) and returns how many: a driver's whole write batch without a lookup per frame.
  std::size_t poll_outgoing(std::vector<SharedText>& out, std::size_t max_frames, std::size_t max_bytes);
  std::optional<CloseRequest> poll_close();  // once, after the queue is empty
  std::size_t queued_bytes() const noexcept { return queued_bytes_; }
  bool closing() const noexcept { return close_.has_value(); }
  Endpoint endpoint() const noexcept { return endpoint_; }
  // The Hub's dirty list holds a session once: true when it was not listed yet (and is now).
  bool list_dirty() noexcept { return !std::exchange(listed_dirty_, true); }
  void unlist_dirty() noexcept { listed_dirty_ = false; }
  bool listed_dirty() const noexcept { return listed_dirty_; }

 private:
  void heard(Now now) noexcept { last_heard_ = now.mono; }
  // False when the frame must not be processed (refused or closed for its rate).
  bool admit_frame(Now now);
  void conflate();
  bool has_heartbeat() const noexcept { return endpoint_ != Endpoint::test_echo; }
  bool detects_stale() const noexcept {
    return endpoint_ != Endpoint::test_echo && endpoint_ != Endpoint::sse;
  }
  // WebSockets with a heartbeat: SSE has no control frames.
  bool sends_control_pings() const noexcept { return detects_stale(); }

  Endpoint endpoint_;
  const HubConfig& config_;
  SessionCounters& counters_;
  MonoMillis last_heard_;
  MonoMillis next_ping_;
  std::optional<MonoMillis> next_health_;
  std::optional<FrameRateLimit> rate_;  // unset: this endpoint has no frame rate limit
  // The queue is queue_[head_..]: a vector that is emptied when drained, so a quiet connection holds
  // a few entries of storage instead of a deque's first 512-byte block and its map.
  bool queue_empty() const noexcept { return head_ == queue_.size(); }
  void after_pop();
  std::vector<OutFrame> queue_;
  std::size_t head_ = 0;
  std::size_t queued_bytes_ = 0;
  std::optional<CloseRequest> close_;
  bool close_taken_ = false;
  bool listed_dirty_ = false;
  bool control_ping_due_ = false;
};

}  // namespace progress
