#pragma once
// Owns the one progress::Hub and drives it from the io_context thread: every input goes through
// here, and the hub's timer is re-armed after each call. The connections the hub marked dirty are
// kicked once per turn of the event loop (a posted flush), not per call: a read that carried 200
// publishes then costs each subscriber one write of 200 frames, not 200 writes. Sessions never
// touch the Hub directly.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "base/net.hpp"
#include "progress/hub.hpp"
#include "store/store_writer.hpp"

namespace progress::server {

// A WebSocket or SSE session as the hub_service sees it: told to look at its queue.
class stream_sink {
 public:
  virtual ~stream_sink() = default;
  // New frames or a close request may be waiting: start a write if none is in flight.
  virtual void kick() = 0;
};

// Records kept outside the hub (HubConfig::records_are_external): after every hub call the
// authority carries out the hub's store requests (poll_store_requests).
class record_authority {
 public:
  virtual ~record_authority() = default;
  virtual void pump() = 0;
};

// Wall-clock milliseconds since the Unix epoch: what the server stamps, stores and signs.
Millis wall_now();
// Both clocks, read where the server reads them for the hub: steady_clock runs its countdowns.
Now clock_now();

class hub_service {
 public:
  // With a `store` the records are loaded from it now and every change is written to it. With a
  // `scripted_clock` time is whatever it returns and no timer is armed: the script calls tick() at
  // the deadlines it chooses (the Redis vector runner replays the shared hub vectors this way).
  hub_service(net::io_context& ioc, HubConfig config, std::uint64_t seed, const logger& log,
              std::unique_ptr<store_writer> store = nullptr, std::function<Millis()> scripted_clock = {});

  Now now() const;
  void tick();  // scripted time: the hub's deadlines up to now()

  // Registers the session; call deliver() once the session has stored the id.
  ConnId open(const Target& target, std::weak_ptr<stream_sink> sink);
  void deliver();
  void on_text(ConnId conn, std::string_view text);
  void on_binary(ConnId conn);
  void on_oversize(ConnId conn);
  void on_control(ConnId conn);  // a control ping or pong: a sign of life
  void on_closed(ConnId conn);

  Result<Snapshot> create_process(std::optional<std::string> process_id);
  Result<Ack> publish(const Publish& publish);
  std::optional<Snapshot> snapshot(std::string_view process_id) const;

  std::optional<SharedText> poll_outgoing(ConnId conn);
  // Up to `max_frames` frames (stopping once `max_bytes` is reached) appended to `out`, one lookup.
  std::size_t poll_outgoing(ConnId conn, std::vector<SharedText>& out, std::size_t max_frames,
                            std::size_t max_bytes);
  std::optional<CloseRequest> poll_close(ConnId conn);
  bool poll_control_ping(ConnId conn) { return hub_.poll_control_ping(conn); }

  // Graceful shutdown: close 1001 to everyone, stop the timer once the last session is gone and
  // then call `drained` (once).
  void shutdown(std::function<void()> drained);
  bool stopping() const noexcept { return stopping_; }

  // External records: `authority` is pumped after every call and carries out poll_store_requests.
  // It feeds the store's answers in with the calls below, then calls deliver() once for the batch.
  void set_authority(record_authority* authority) noexcept { authority_ = authority; }
  std::vector<StoreRequest> poll_store_requests() { return hub_.poll_store_requests(); }
  void complete_publish(const PublishRequest& write, const Result<Ack>& outcome) {
    hub_.complete_publish(write, outcome);
  }
  void ingest_record(const std::string& process_id, std::optional<ProcessRecord> record) {
    hub_.ingest_record(process_id, std::move(record), now());
  }
  void ingest_change(SharedChange change) { hub_.ingest_change(std::move(change), now()); }
  std::vector<std::string> watched() const { return hub_.watched(); }

  // Called after every kick pass that kicked a session: the writes the pass handed over go out then,
  // together (ring_queue).
  void set_after_kick_pass(std::function<void()> hook) { after_kick_pass_ = std::move(hook); }

  HubStats stats() const;
  std::size_t total_queued_bytes() const;
  std::size_t queued_bytes(ConnId conn) const { return hub_.queued_bytes(conn); }
  std::optional<MonoMillis> poll_timeout() const { return hub_.poll_timeout(); }  // the hub's next deadline
  std::size_t open_streams() const noexcept { return sinks_.size(); }
  const HubConfig& config() const noexcept { return hub_.config(); }

 private:
  struct sink_entry {
    std::weak_ptr<stream_sink> sink;
    const void* object = nullptr;  // the session itself, only ever prefetched
    bool closed = false;           // closed while kick_dirty held entries; erased when it ends
  };

  void after_call();
  Error store_unavailable() const;
  void kick_dirty();
  void arm_timer();
  void on_timer(error_code ec);

  Hub hub_;
  std::unique_ptr<store_writer> store_;  // destroyed first: its last flush reads hub_
  const logger& log_;
  net::io_context& ioc_;
  std::vector<ConnId> dirty_;  // reused by every kick_dirty
  std::function<void()> after_kick_pass_;
  std::vector<sink_entry*> kick_list_;
  std::vector<ConnId> closed_while_kicking_;
  bool kicking_ = false;
  bool kick_posted_ = false;
  net::steady_timer timer_;
  std::optional<MonoMillis> armed_at_;
  std::unordered_map<ConnId, sink_entry> sinks_;
  bool stopping_ = false;
  std::function<void()> drained_;
  record_authority* authority_ = nullptr;
  std::function<Millis()> scripted_clock_;
};

}  // namespace progress::server
