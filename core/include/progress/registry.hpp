#pragma once
// Processes and who listens to them. The registry decides what a subscriber is owed (replay,
// snapshot or pending) and who receives an event; it never encodes or queues frames (the Hub
// does), so fan-out stays one encode per event.
//
// Subscribing and the registration are one step, so a subscriber gets snapshot(seq N) and then
// exactly the events > N. Pending subscriptions (unknown id) wait `pending_timeout_ms`; a
// finished record is kept `retention_ms`, then forgotten (its listeners stay registered and get a
// snapshot if the id is created again, under a new epoch).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "progress/deadlines.hpp"
#include "progress/epoch.hpp"
#include "progress/idempotency.hpp"
#include "progress/limits.hpp"
#include "progress/process_record.hpp"
#include "progress/protocol.hpp"
#include "progress/record_store.hpp"
#include "progress/time.hpp"

namespace progress {

using SubscriberId = std::uint64_t;

struct RegistryConfig {
  std::int64_t pending_timeout_ms = 5 * 60 * 1000;
  std::int64_t retention_ms = 60 * 60 * 1000;
  std::size_t history = 256;
  std::size_t history_bytes = limits::kDefaultHistoryBytes;  // per record (R8)
  // All records' histories together; past it the oldest events of any record are forgotten first.
  std::size_t history_budget_bytes = limits::kDefaultHistoryBudgetBytes;
  std::int64_t idle_timeout_ms = limits::kDefaultIdleTimeoutMs;  // R10; 0 = never
  // Generated process ids (create with no id). Unset: the seeded stream, which one id predicts, so
  // only for tests and vectors; the server hands in ids from the OS CSPRNG.
  std::function<std::string()> process_ids;
  std::size_t max_processes = 100'000;
  std::size_t max_subscriptions = 1'000'000;
  std::size_t max_subscriptions_per_connection = 1'000;
  bool record_changes = false;  // keep the changed ids for poll_changes (a store is attached)
  // External records: a lease that ran out in the mirror is reported (TickResult::lapsed_leases)
  // for the store's writer to expire under its compare-and-set, not expired here.
  bool report_leases = false;
};

// What a new subscriber is owed right now.
struct PendingReply {
  std::string process_id;
};
// The record itself, not a copy: a subscriber joining a record that has not changed since the last
// one joined is sent the encoded snapshot the hub already holds. Valid until the registry changes.
struct SnapshotReply {
  const ProcessRecord* record = nullptr;
};
struct ReplayReply {
  std::vector<SharedEvent> events;  // may be empty: already up to date
};
using SubscribeReply = std::variant<PendingReply, SnapshotReply, ReplayReply>;

// One accepted event and who gets what. `subscribers` stays valid until the registry changes.
struct Fanout {
  SharedEvent event;  // null when a mirror took a record without an event: only `activated` is owed
  const std::vector<SubscriberId>* subscribers = nullptr;  // live subscribers: the event
  std::vector<SubscriberId> activated;  // were waiting for the record: `snapshot` instead
  std::optional<Snapshot> snapshot;     // set when `activated` is not empty
  std::optional<Seq> repeated;  // a repeated idempotency key: the first seq, nothing applied or owed
};

struct Created {
  Snapshot snapshot;
  bool created = false;                 // false: the id existed, returned unchanged
  std::vector<SubscriberId> activated;  // pending subscribers now owed `snapshot`
};

struct Expired {
  SubscriberId subscriber = 0;
  std::string process_id;
};

struct TickResult {
  std::vector<Expired> not_found;  // pending subscriptions that timed out (now dropped)
  std::vector<Fanout> stalled;     // lease and idle expiries (failed events)
  std::size_t forgotten = 0;       // finished records dropped after retention
  // report_leases: mirrored records whose lease ran out or that stayed idle past idle_timeout_ms
  std::vector<std::string> lapsed_leases;
};

class Registry {
 public:
  Registry(RegistryConfig config, std::uint64_t seed);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers (or re-evaluates) `subscriber` on `process_id`. Errors: rate_limited (per
  // connection bound), unavailable (total bound).
  Result<SubscribeReply> subscribe(SubscriberId subscriber, const std::string& process_id,
                                   std::optional<Seq> after_seq, const std::optional<std::string>& epoch,
                                   Now now);
  bool unsubscribe(SubscriberId subscriber, const std::string& process_id);
  void remove_subscriber(SubscriberId subscriber);

  // A generated id when `process_id` is nullopt. Error: unavailable (process limit reached).
  Result<Created> create(std::optional<std::string> process_id, Now now);
  // Creates the record on first publish. Errors: those of ProcessRecord::apply, unavailable, and
  // invalid_update for an idempotency key reused for another update; a key repeated with the same
  // update answers `repeated` (idempotency.hpp). Like apply, it takes the update's payload and
  // leaves its ids.
  Result<Fanout> publish(Publish&& publish, Now now);

  // External records (the mirror of a shared store). `record` is the store's current one, `event`
  // the change that made it when known. An event directly after the mirror's record goes to the
  // subscribers; a new, recreated or further-ahead record replaces the mirror and every subscriber
  // is owed its snapshot (`activated`); an older or equal one changes nothing.
  Fanout mirror(ProcessRecord record, const SharedEvent& event, Now now);
  // Drops the mirror of a process nobody here listens to any more (it would go stale).
  void forget(const std::string& process_id);
  std::size_t listeners(const std::string& process_id) const;
  std::vector<std::string> processes_of(SubscriberId subscriber) const;

  TickResult tick(Now now);
  std::optional<MonoMillis> next_deadline() const { return deadlines_.next(); }

  // Durability (record_store.hpp): the records changed since the last call, one entry per id,
  // durable when any of its changes was; only while config.record_changes is set.
  void poll_changes(std::vector<RecordChange>& out);
  // Loads stored records at start-up (before any subscriber) under the restore rule; leases and
  // retention continue from the stored times, so what fell due while the hub was down fires on
  // the first tick.
  RestoreSummary restore(std::vector<StoredRecord> records, bool clean_shutdown, Now now);

  const ProcessRecord* find(std::string_view process_id) const;
  std::size_t process_count() const noexcept { return records_; }
  std::size_t subscription_count() const noexcept { return subscriptions_; }
  std::size_t pending_count() const noexcept { return pending_; }
  std::size_t history_bytes() const noexcept { return history_bytes_; }
  std::size_t subscriptions_of(SubscriberId subscriber) const;
  template <class F>
  void for_each_record(F&& f) const {
    for (const auto& [id, entry] : entries_) {
      if (entry.record) f(*entry.record);
    }
  }

 private:
  enum class TimerKind { pending, lease, retention, idle };
  struct TimerKey {
    TimerKind kind = TimerKind::pending;
    std::string process_id;
    SubscriberId subscriber = 0;
    // Spelled out: the libc++ of Debian's Emscripten has no operator<=> for std::string.
    bool operator<(const TimerKey& other) const {
      return std::tie(kind, process_id, subscriber) <
             std::tie(other.kind, other.process_id, other.subscriber);
    }
  };
  // Without a record every subscriber is waiting for one (pending, or kept after retention).
  struct Entry {
    std::unique_ptr<ProcessRecord> record;
    // New for every record installed: marks of a record forgotten since never match a later one.
    std::shared_ptr<const std::string> key;
    std::vector<SubscriberId> subscribers;                   // fan-out order
    std::unordered_map<SubscriberId, std::size_t> position;  // index into `subscribers`
    IdempotencyKeys keys;  // of the record's accepted publishes; forgotten with the record
  };

  Entry& install(const std::string& process_id, std::unique_ptr<ProcessRecord> record,
                 std::vector<SubscriberId>& activated);
  void add(Entry& entry, SubscriberId subscriber, const std::string& process_id);
  void remove(Entry& entry, SubscriberId subscriber, const std::string& process_id);
  void forget_if_empty(const std::string& process_id);
  // The record's wall-clock deadlines as countdowns from `now` on the monotonic clock.
  void arm_record_timers(const ProcessRecord& record, Now now);
  void note_change(const std::string& process_id, bool durable);
  std::string generate_id();
  // After `entry`'s record changed: its history was `before` bytes; the newest event, when one was
  // added, gets its mark; then the global budget is enforced.
  struct HistorySize {
    std::size_t bytes = 0;
    std::size_t events = 0;
  };
  static HistorySize history_of(const Entry& entry);
  void account(Entry& entry, HistorySize before, bool added);
  void drop_history(const Entry& entry);
  void enforce_budget();
  SharedEvent expire(Entry& entry, TimerKind kind, Now now);

  // One mark per event added to a history, oldest first: the global budget trims in this order.
  struct HistoryMark {
    std::shared_ptr<const std::string> key;
    Seq seq = 0;
  };

  RegistryConfig config_;
  EpochSource epochs_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<SubscriberId, std::unordered_set<std::string>> by_subscriber_;
  Deadlines<TimerKey> deadlines_;
  std::size_t records_ = 0;
  std::size_t subscriptions_ = 0;
  std::size_t pending_ = 0;
  std::size_t history_bytes_ = 0;
  std::size_t history_events_ = 0;
  std::deque<HistoryMark> marks_;
  std::map<std::string, bool> changed_;  // id -> durable; ordered so stores write in a stable order
};

}  // namespace progress
