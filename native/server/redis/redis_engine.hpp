#pragma once
// The Redis engine: every node keeps its records in one Redis, so a producer may publish to any
// node and a subscriber listen on any other.
//
//   write   the node applies the publish with the core (ProcessRecord::apply) to its cached copy
//           of the record, then one Lua script compare-and-sets it (seq and epoch as read), appends
//           the event to the process's capped stream (the resume history), publishes the change
//           on the process's channel and sets the retention TTL of a finished record, atomically.
//           A mismatch returns the current record: the node applies again (bounded retries). So the
//           record rules stay in C++ only, and seq is global whichever node accepted the publish.
//   limit   the same script counts the records in Redis when it would create one, so
//           --max-processes bounds them over all nodes, as it bounds one embedded hub's.
//   read    a node follows (SUBSCRIBE) only the channels of processes with local subscribers, then
//           loads the record and its stream (one script); the hub mirrors them and fans out.
//   leases  a node whose mirror sees a lease run out (or that meets a lapsed one on a read or a
//           write) writes the `stalled` failure like a publish: the compare-and-set lets it happen
//           once, and a publish that re-armed the lease first wins. A record with no lease does the
//           same after --idle-timeout-ms without a write; one nobody follows or touches expires
//           from Redis that long plus the retention after its last write (TTL).
//   down    while Redis is unreachable writes answer `unavailable`; reconnects with backoff, then
//           follows and reloads every watched process so subscribers behind get a snapshot. A Redis
//           that stops answering without closing (hung, paused, a dead peer behind a silent network)
//           counts as unreachable once a command waits longer than the command timeout.
//   silent  the channel connection only ever reads, so a flow a NAT or proxy dropped would go
//           unnoticed there while writes still work. Every command timeout the node publishes a
//           heartbeat on a channel of its own and expects it back on that connection before the next
//           one is due; a heartbeat not heard by then counts as a lost connection, as above.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/engine.hpp"
#include "hub/hub_service.hpp"
#include "base/log.hpp"
#include "base/net.hpp"
#include "progress/epoch.hpp"
#include "progress/process_record.hpp"

struct redisAsyncContext;
struct redisReply;

namespace progress::server {

struct redis_url {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  // Set: each connection sends AUTH [username] password before anything else. Never logged.
  std::string username;  // empty: the default user (Redis before 6 knows no other)
  std::optional<std::string> password;
};

// redis://[[username]:password@]host[:port][/db], user and password percent-decoded; nullopt when
// it is not one.
std::optional<redis_url> parse_redis_url(std::string_view text);

// How long a command may wait for its reply before the connection counts as lost (--redis-timeout-ms).
inline constexpr std::chrono::milliseconds kDefaultRedisCommandTimeout{2000};

class redis_engine final : public engine, public record_authority {
 public:
  redis_engine(net::io_context& ioc, hub_service& hub, redis_url url, std::uint64_t seed, const logger& log,
               std::chrono::milliseconds command_timeout = kDefaultRedisCommandTimeout);
  ~redis_engine() override;
  redis_engine(const redis_engine&) = delete;
  redis_engine& operator=(const redis_engine&) = delete;

  void start();  // connects; everything before the first connection answers `unavailable`
  void stop();   // drops the connections for good (shutdown)

  void create_process(std::optional<std::string> process_id, created_handler done) override;
  void publish(Publish publish, ack_handler done) override;
  void get_process(std::string process_id, record_handler done) override;
  bool runs_upload_jobs() const override { return false; }

  void pump() override;

  bool up() const noexcept { return up_; }
  // No write waiting, no command unanswered, no (un)subscribe on its way.
  bool idle() const;
  // `done` runs (on the io_context) once every change Redis published before this call has reached
  // this node: a SUBSCRIBE on the channel connection is answered after the messages queued ahead of
  // it. At once when Redis is unreachable. The Redis vector runner settles each step with it.
  void sync(std::function<void()> done);

  // For the hiredis callbacks (C functions) only.
  struct reply_slot;
  void on_connected(const redisAsyncContext* context, int status);
  void on_disconnected(const redisAsyncContext* context);
  void on_channel_reply(redisReply* reply);

 private:
  // A publish (or, without one, a create) waiting its turn: one write per process in flight, so
  // a producer's publishes are applied in the order it sent them.
  struct write_job {
    std::optional<Publish> publish;
    bool expire_lease = false;  // neither publish nor create: write the lapsed lease's failure
    ack_handler on_ack;
    created_handler on_created;
    int attempts = 0;
    bool fresh = false;    // the cached record was read for this job
    bool running = false;  // a command for it is in flight
    bool key_checked = false;  // its idempotency key was looked up and is new
  };
  // SUBSCRIBE/UNSUBSCRIBE one at a time per channel: hiredis forgets a channel's callback when an
  // unsubscribe reply arrives, even when a subscribe was sent after it.
  struct channel_state {
    bool want = false;
    bool subscribed = false;
    bool in_flight = false;
  };
  using reply_handler = std::function<void(redisReply*)>;

  void connect();
  void mark_down(const char* why);
  void teardown_and_retry();
  void on_ready();
  bool command(redisAsyncContext* context, const std::vector<std::string>& args, reply_handler done);
  void reply_arrived(std::uint64_t connection);
  void arm_watchdog();
  void arm_heartbeat();
  void on_heartbeat_due();
  void run_script(const std::string& sha, const std::string& source, std::vector<std::string> args,
                  reply_handler done);

  void enqueue(const std::string& process_id, write_job job);
  void step(const std::string& process_id);
  void fetch(const std::string& process_id);
  void compare_and_set(const std::string& process_id, const std::optional<ProcessRecord>& base,
                       ProcessRecord next, SharedEvent event);
  void finish(const std::string& process_id, const Result<ProcessRecord>& outcome, bool created);
  void check_idempotency_key(const std::string& process_id);
  // The front job's key was found with `stored` ("fingerprint seq"): its first answer or the reuse error.
  void finish_repeat(const std::string& process_id, std::string_view stored);
  void remember(const std::string& process_id, std::optional<ProcessRecord> record);
  // Its lease ran out, or it has none and stayed idle past --idle-timeout-ms.
  bool lease_lapsed(const ProcessRecord& record, Millis now) const;
  // That failure applied to `record` (null when neither is due).
  SharedEvent expire(ProcessRecord& record, Millis now) const;

  void sync_channel(const std::string& process_id);
  void follow_heartbeat();
  void load(const std::string& process_id);

  std::string record_key(std::string_view id) const { return "progress:record:" + std::string(id); }
  std::string events_key(std::string_view id) const { return "progress:events:" + std::string(id); }
  // '/' never occurs in a process id, so it ends the id whatever the key holds.
  std::string idempotency_key(std::string_view id, std::string_view key) const {
    return "progress:idem:" + std::string(id) + "/" + std::string(key);
  }
  std::string channel(std::string_view id) const { return channel_prefix_ + std::string(id); }
  void release_sync_waiters();
  // Acks of this node's publishes wait for the change to come back on the channel when this node
  // follows the process, so a producer watching it sees the event before the ack, as with the
  // embedded engine.
  bool change_heard(const std::string& process_id, Seq seq) const;
  void release_acks(const std::string& process_id, std::optional<Seq> up_to);

  net::io_context& ioc_;
  hub_service& hub_;
  redis_url url_;
  const logger& log_;
  EpochSource epochs_;
  std::string node_id_;  // names this node in the compare-and-set script's turn
  std::string channel_prefix_;
  redisAsyncContext* commands_ = nullptr;
  redisAsyncContext* channels_ = nullptr;
  bool commands_ready_ = false;
  bool channels_ready_ = false;
  bool up_ = false;
  bool stopped_ = false;
  bool retry_scheduled_ = false;
  std::string cas_sha_;
  std::string load_sha_;
  net::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_;
  // Replies on one connection come in the order the commands went out, so the oldest command still
  // waiting is the front of this queue. `connection_` tells a freed connection's replies apart.
  std::chrono::milliseconds command_timeout_;
  std::deque<std::chrono::steady_clock::time_point> waiting_since_;
  std::uint64_t connection_ = 0;
  net::steady_timer watchdog_;
  bool watchdog_armed_ = false;
  std::unordered_map<std::string, std::deque<write_job>> writes_;
  std::unordered_map<std::string, std::optional<ProcessRecord>> cache_;  // nullopt: known absent
  std::unordered_map<std::string, channel_state> channels_state_;
  struct held_ack {
    PublishRequest request;
    Ack ack;
  };
  std::unordered_map<std::string, std::vector<held_ack>> held_acks_;
  std::string sync_channel_;  // never published on: only its SUBSCRIBE answers matter
  std::string heartbeat_channel_;  // this node's own: published on commands, heard on channels
  net::steady_timer heartbeat_timer_;
  bool heartbeat_outstanding_ = false;  // published, not heard back yet
  std::deque<std::function<void()>> sync_waiters_;
};

}  // namespace progress::server
