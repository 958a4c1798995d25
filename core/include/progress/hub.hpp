#pragma once
// The server side of the protocol with no I/O: every connection's protocol (ServerSession), the
// process registry (Registry) and fan-out with bounded per-connection queues. The native server
// owns one Hub, calls it from one thread/strand, and only carries out what it asks for:
//
//   inputs   open / on_text / on_binary / on_oversize / on_closed / handle_timeout(now)
//            create_process / publish / snapshot (HTTP API)
//   outputs  poll_dirty() -> connections with new output; poll_outgoing(conn) -> next frame to
//            write; poll_close(conn) -> close once the queue is flushed; poll_timeout() -> when to
//            call handle_timeout next.
//
// Where the records come from is chosen once, by HubConfig::records_are_external, and the Hub does
// not branch on it (core/src/record_source.hpp). Embedded (the default), the hub holds the records
// of truth. External, the records live in a shared store (the server's Redis engine) and the hub
// mirrors only those its subscribers watch; like a connection, the store's driver feeds inputs in
// (ingest_record: a load, ingest_change: any node's write, complete_publish: a write's outcome) and
// drains what it must carry out (poll_store_requests: publishes to apply, processes to follow or
// drop, lapsed leases to expire under the store's compare-and-set, so every node sees one failure).
// Pending timeouts and not_found stay local decisions.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "progress/limits.hpp"
#include "progress/protocol.hpp"
#include "progress/record_store.hpp"
#include "progress/shared_record.hpp"
#include "progress/time.hpp"

namespace progress {

struct HubConfig {
  std::int64_t heartbeat_ms = limits::kDefaultHeartbeatMs;
  std::int64_t stale_grace_ms = limits::kStaleGraceMs;   // silent heartbeat+grace -> close 1001
  std::int64_t pending_timeout_ms = 5 * 60 * 1000;       // pending subscription -> not_found
  std::int64_t retention_ms = 60 * 60 * 1000;            // finished records kept this long
  std::int64_t health_interval_ms = 5000;                // /ws/health frame period
  std::size_t history = limits::kDefaultHistory;
  std::size_t history_bytes = limits::kDefaultHistoryBytes;            // per process (RegistryConfig)
  std::size_t history_budget_bytes = limits::kDefaultHistoryBudgetBytes;  // all processes together
  std::int64_t idle_timeout_ms = limits::kDefaultIdleTimeoutMs;        // no lease, no publish -> stalled
  // Generated process ids: the server's draws on the OS CSPRNG. Unset, they come from `seed`'s
  // stream, where one id predicts the next: for tests and vectors only.
  std::function<std::string()> process_ids;
  std::size_t max_processes = 100'000;
  std::size_t max_subscriptions = 1'000'000;
  std::size_t max_subscriptions_per_connection = 1'000;
  std::size_t max_frame_bytes = limits::kMaxFrameBytes;
  std::size_t max_queue_bytes = 256 * 1024;              // per connection, unsent bytes
  bool record_changes = false;  // a store is attached and calls poll_changes (record_store.hpp)
  std::string server_name = "progress-hub/0.1";
  // Access and abuse limits (docs/security.md). The token check returns why a
  // subscription's token is refused (nullopt: allowed); unset, subscriptions need no token. The
  // server plugs its JWT verifier in here so the core stays free of crypto.
  std::function<std::optional<TokenRefusal>(std::string_view process_id, std::string_view token, Millis wall_now)>
      subscription_check;
  std::size_t max_frames_per_s = 50;        // inbound frames per connection -> rate_limited; 0 = off
  std::size_t frame_burst = 200;            // frames a connection may send at once
  std::size_t max_publish_frames_per_s = 0; // /ws/publish connections (authenticated producers); 0 = off
  std::size_t rate_limit_grace = 3;         // rate_limited answers within 1 s before close 1008
  bool records_are_external = false;                     // see the top of this file
};

enum class Endpoint { progress, progress_multi, health, test_echo, publish, sse };

// What a request target (path + query) names. Pure parsing: routing decisions are the driver's.
struct Target {
  Endpoint endpoint = Endpoint::progress_multi;
  std::string process_id;           // /ws/progress/{id}, /sse/progress/{id} (raw, validated later)
  std::optional<Seq> after_seq;     // ?after_seq=N (SSE: from Last-Event-ID "epoch:seq")
  std::optional<std::string> epoch; // ?epoch=E
  std::optional<std::string> token; // ?token=T
};
// nullopt when the path is none of the streaming endpoints.
std::optional<Target> parse_target(std::string_view target);

using ConnId = std::uint64_t;
using SharedText = std::shared_ptr<const std::string>;

struct CloseRequest {
  int code = 1000;  // 1000 normal, 1001 going away / stale, 1003 binary, 1008 policy, 1009 too big,
                    // 1013 slow consumer over its queue bound
  std::string reason;
};

// What an external hub asks of its store's driver (Hub::poll_store_requests), in the order it arose.
// A /ws/publish frame to apply to the store; answer it once with complete_publish.
struct PublishRequest {
  ConnId conn = 0;
  Publish publish;
};
// watch: the first local subscriber of a process arrived (follow its changes, then load it and answer
// with ingest_record); !watch: the last one left (stop following).
struct InterestChange {
  std::string process_id;
  bool watch = false;
};
// A mirrored record whose lease (or idle time) ran out at a handle_timeout: expire it in the store
// (ProcessRecord::expire_lease under its compare-and-set; a publish that re-armed it first wins).
struct LapsedLease {
  std::string process_id;
};
using StoreRequest = std::variant<PublishRequest, InterestChange, LapsedLease>;

struct HubStats {
  std::uint64_t connections = 0;
  std::uint64_t subscriptions = 0;
  std::uint64_t pending_subscriptions = 0;
  std::map<State, std::uint64_t> processes_by_state;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t publishes = 0;
  std::uint64_t conflated = 0;        // frames dropped by conflation
  std::uint64_t slow_disconnects = 0; // connections closed for staying over the queue bound
  std::uint64_t history_bytes = 0;    // every process's resume history (RegistryConfig::history_budget_bytes)
  std::map<ErrorCode, std::uint64_t> errors_by_code;
};

class Hub {
 public:
  // `seed` feeds the epoch generator (a record's epoch is random per creation).
  Hub(HubConfig config, Now now, std::uint64_t seed);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // A WebSocket (or SSE stream) was accepted for `target`. Queues `hello` (not for test_echo or
  // sse) and, for /ws/progress/{id}, the initial subscription's frames; an invalid id queues an
  // `invalid_process_id` error and a close 1008.
  ConnId open(const Target& target, Now now);
  void on_text(ConnId conn, std::string_view text, Now now);
  void on_binary(ConnId conn, Now now);    // -> error bad_frame, close 1003
  void on_oversize(ConnId conn, Now now);  // -> error too_large, close 1009
  // A WebSocket control ping or pong arrived. It carries nothing for the protocol, but it is a sign
  // of life: a browser answers the driver's control pings without any application code.
  void on_control(ConnId conn, Now now);
  void on_closed(ConnId conn);                // the socket is gone; forget it
  void handle_timeout(Now now);            // heartbeats, stale sockets, pending/lease/TTL expiry
  std::optional<MonoMillis> poll_timeout() const;  // on the monotonic clock
  // Graceful shutdown: every connection gets close 1001 after its queue.
  void close_all(Now now);

  // External records (records_are_external); an embedded hub asks nothing and ignores these.
  std::vector<StoreRequest> poll_store_requests();
  // The store's verdict on a PublishRequest: an `ack` (when the publish had an id) or an `error` frame.
  void complete_publish(const PublishRequest& request, const Result<Ack>& outcome);
  // The processes followed now (to follow and reload again after the store came back).
  std::vector<std::string> watched() const;
  // The store's record after a load or reload (nullopt: no such process): subscribers waiting for
  // the load get their reply (snapshot, replay or pending), subscribers behind it a snapshot.
  void ingest_record(const std::string& process_id, std::optional<ProcessRecord> record, Now now);
  // A write announced by the store (from any node).
  void ingest_change(SharedChange change, Now now);

  // HTTP API. create_process with an existing id returns that record unchanged. With external
  // records both are the driver's (they answer unavailable here).
  Result<Snapshot> create_process(std::optional<std::string> process_id, Now now);
  Result<Ack> publish(const Publish& publish, Now now);
  std::optional<Snapshot> snapshot(std::string_view process_id) const;

  // Output side.
  std::vector<ConnId> poll_dirty();  // connections that got frames or a close since last call
  void poll_dirty(std::vector<ConnId>& out);  // the same, appended to `out` (reuses its storage)
  std::optional<SharedText> poll_outgoing(ConnId conn);
  // A whole write batch with one lookup: frames appended to `out` until `max_frames` were taken or
  // `max_bytes` reached (the last frame may cross it). Returns how many.
  std::size_t poll_outgoing(ConnId conn, std::vector<SharedText>& out, std::size_t max_frames,
                            std::size_t max_bytes);
  std::optional<CloseRequest> poll_close(ConnId conn);  // only once its queue is empty
  // True once per heartbeat of a WebSocket connection: the driver sends an RFC 6455 ping control
  // frame (empty payload), which every browser and client library answers with a pong by itself.
  bool poll_control_ping(ConnId conn);
  std::size_t queued_bytes(ConnId conn) const;

  HubStats stats() const;
  const HubConfig& config() const noexcept;

  // Durability (record_store.hpp). Records changed since the last call, appended to `out`.
  void poll_changes(std::vector<RecordChange>& out);
  // At start-up, before the first connection.
  RestoreSummary restore(std::vector<StoredRecord> records, bool clean_shutdown, Now now);
  // While set (the store cannot commit), publishes and creations get `unavailable` with `reason`.
  void set_unavailable(std::optional<std::string> reason);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace progress
