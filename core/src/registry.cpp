#include "progress/registry.hpp"

#include <utility>

namespace progress {

Registry::Registry(RegistryConfig config, std::uint64_t seed) : config_(std::move(config)), epochs_(seed) {}

Result<SubscribeReply> Registry::subscribe(SubscriberId subscriber, const std::string& process_id,
                                           std::optional<Seq> after_seq,
                                           const std::optional<std::string>& epoch, Now now) {
  auto entry_it = entries_.find(process_id);
  const bool registered = entry_it != entries_.end() && entry_it->second.position.contains(subscriber);
  if (!registered) {
    if (subscriptions_of(subscriber) >= config_.max_subscriptions_per_connection) {
      return Error{ErrorCode::rate_limited,
                   "at most " + std::to_string(config_.max_subscriptions_per_connection) +
                       " subscriptions per connection",
                   process_id, std::nullopt};
    }
    if (subscriptions_ >= config_.max_subscriptions) {
      return Error{ErrorCode::unavailable, "subscription limit reached", process_id, std::nullopt};
    }
    entry_it = entries_.try_emplace(process_id).first;
    add(entry_it->second, subscriber, process_id);
  }
  Entry& entry = entry_it->second;
  if (!entry.record) {
    deadlines_.set(TimerKey{TimerKind::pending, process_id, subscriber}, now.mono + config_.pending_timeout_ms);
    return PendingReply{process_id};
  }
  const ProcessRecord& record = *entry.record;
  if (after_seq && (!epoch || *epoch == record.epoch())) {
    if (auto events = record.events_after(*after_seq)) return ReplayReply{std::move(*events)};
  }
  return SnapshotReply{&record};
}

bool Registry::unsubscribe(SubscriberId subscriber, const std::string& process_id) {
  auto it = entries_.find(process_id);
  if (it == entries_.end() || !it->second.position.contains(subscriber)) return false;
  remove(it->second, subscriber, process_id);
  auto own = by_subscriber_.find(subscriber);
  own->second.erase(process_id);
  if (own->second.empty()) by_subscriber_.erase(own);
  forget_if_empty(process_id);
  return true;
}

void Registry::remove_subscriber(SubscriberId subscriber) {
  auto own = by_subscriber_.find(subscriber);
  if (own == by_subscriber_.end()) return;
  const auto ids = std::move(own->second);
  by_subscriber_.erase(own);
  for (const auto& process_id : ids) {
    auto it = entries_.find(process_id);
    if (it == entries_.end()) continue;
    remove(it->second, subscriber, process_id);
    forget_if_empty(process_id);
  }
}

std::string Registry::generate_id() {
  return config_.process_ids ? config_.process_ids() : epochs_.next_process_id();
}

Result<Created> Registry::create(std::optional<std::string> process_id, Now now) {
  std::string id = process_id ? std::move(*process_id) : generate_id();
  if (!process_id && !is_valid_process_id(id)) {
    return Error{ErrorCode::unavailable, "no process id could be generated; retry later", std::nullopt,
                 std::nullopt};
  }
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second.record) return Created{it->second.record->snapshot(), false, {}};
  if (records_ >= config_.max_processes) {
    return Error{ErrorCode::unavailable, "process limit reached", id, std::nullopt};
  }
  Created created{Snapshot{}, true, {}};
  Entry& entry = install(id, std::make_unique<ProcessRecord>(id, epochs_.next_epoch(), now.wall, config_.history),
                         created.activated);
  arm_record_timers(*entry.record, now);
  created.snapshot = entry.record->snapshot();
  note_change(id, true);
  return created;
}

Result<Fanout> Registry::publish(Publish&& publish, Now now) {
  auto it = entries_.find(publish.process_id);
  std::optional<std::string> key = publish.idempotency_key;
  const std::uint64_t fingerprint = key ? idempotency_fingerprint(publish) : 0;
  if (it != entries_.end() && it->second.record) {
    Entry& entry = it->second;
    if (auto earlier = recall(entry.keys, publish, now.mono)) {
      if (!earlier->ok()) return earlier->error();
      return Fanout{nullptr, nullptr, {}, std::nullopt, earlier->value()};
    }
    const HistorySize before = history_of(entry);
    auto applied = entry.record->apply(std::move(publish), now.wall);
    if (!applied) return applied.error();
    account(entry, before, true);
    if (key) entry.keys.remember(*key, fingerprint, applied.value()->event.seq, now.mono);
    arm_record_timers(*entry.record, now);
    note_change(it->first, applied.value()->stage_changed || entry.record->finished());
    return Fanout{std::move(applied.value()), &entry.subscribers, {}, std::nullopt, std::nullopt};
  }
  if (records_ >= config_.max_processes) {
    return Error{ErrorCode::unavailable, "process limit reached", publish.process_id, publish.id};
  }
  // Applied before it is installed, so a refused first publish leaves no record behind.
  auto record =
      std::make_unique<ProcessRecord>(publish.process_id, epochs_.next_epoch(), now.wall, config_.history);
  auto applied = record->apply(std::move(publish), now.wall);
  if (!applied) return applied.error();
  Fanout fanout{std::move(applied.value()), nullptr, {}, std::nullopt, std::nullopt};
  const std::string& process_id = record->process_id();  // the record outlives the move of its owner
  Entry& entry = install(process_id, std::move(record), fanout.activated);
  account(entry, HistorySize{}, true);
  if (key) entry.keys.remember(*key, fingerprint, fanout.event->event.seq, now.mono);
  fanout.subscribers = nullptr;  // every listener was waiting: they get the snapshot instead
  if (!fanout.activated.empty()) fanout.snapshot = entry.record->snapshot();
  arm_record_timers(*entry.record, now);
  note_change(process_id, true);
  return fanout;
}

Fanout Registry::mirror(ProcessRecord record, const SharedEvent& event, Now now) {
  const std::string process_id = record.process_id();
  Fanout out{event, nullptr, {}, std::nullopt, std::nullopt};
  Entry& entry = entries_[process_id];
  record.bound_history_bytes(config_.history_bytes);
  const HistorySize before = history_of(entry);
  if (entry.record && entry.record->epoch() == record.epoch()) {
    if (record.seq() <= entry.record->seq()) {
      // A load that raced the channel: the mirror is as new, the load may reach further back.
      entry.record->absorb_history(record);
      account(entry, before, false);
      return out;
    }
    if (event && event->event.seq == entry.record->seq() + 1) {
      record.continue_history(std::move(*entry.record), event);
      *entry.record = std::move(record);
      account(entry, before, true);
      arm_record_timers(*entry.record, now);
      out.subscribers = &entry.subscribers;
      return out;
    }
  }
  if (event) record.start_history({event});
  if (entry.record) {
    *entry.record = std::move(record);
    out.activated = entry.subscribers;
  } else {
    install(process_id, std::make_unique<ProcessRecord>(std::move(record)), out.activated);
  }
  account(entry, before, event != nullptr);
  if (!out.activated.empty()) out.snapshot = entry.record->snapshot();
  arm_record_timers(*entry.record, now);
  return out;
}

void Registry::forget(const std::string& process_id) {
  auto it = entries_.find(process_id);
  if (it == entries_.end() || !it->second.subscribers.empty()) return;
  if (it->second.record) --records_;
  drop_history(it->second);
  entries_.erase(it);
}

std::size_t Registry::listeners(const std::string& process_id) const {
  auto it = entries_.find(process_id);
  return it == entries_.end() ? 0 : it->second.subscribers.size();
}

std::vector<std::string> Registry::processes_of(SubscriberId subscriber) const {
  auto it = by_subscriber_.find(subscriber);
  if (it == by_subscriber_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

TickResult Registry::tick(Now now) {
  TickResult result;
  for (auto& key : deadlines_.poll_due(now.mono)) {
    auto it = entries_.find(key.process_id);
    if (it == entries_.end()) continue;
    Entry& entry = it->second;
    switch (key.kind) {
      case TimerKind::pending:
        if (entry.record || !entry.position.contains(key.subscriber)) break;
        result.not_found.push_back(Expired{key.subscriber, key.process_id});
        unsubscribe(key.subscriber, key.process_id);
        break;
      case TimerKind::lease:
      case TimerKind::idle:
        if (!entry.record) break;
        if (config_.report_leases) {
          // The countdown ran out; the store judges the stored deadline on its own clock.
          const auto at = key.kind == TimerKind::lease ? entry.record->lease_deadline()
                                                       : entry.record->idle_deadline(config_.idle_timeout_ms);
          if (at && !entry.record->finished()) result.lapsed_leases.push_back(key.process_id);
          break;
        }
        if (auto event = expire(entry, key.kind, now)) {
          arm_record_timers(*entry.record, now);
          note_change(key.process_id, true);
          result.stalled.push_back(Fanout{std::move(event), &entry.subscribers, {}, std::nullopt, std::nullopt});
        }
        break;
      case TimerKind::retention:
        if (!entry.record || !entry.record->finished()) break;
        drop_history(entry);
        entry.record.reset();
        entry.keys = IdempotencyKeys{};
        --records_;
        pending_ += entry.subscribers.size();
        ++result.forgotten;
        note_change(key.process_id, true);
        forget_if_empty(key.process_id);
        break;
    }
  }
  return result;
}

SharedEvent Registry::expire(Entry& entry, TimerKind kind, Now now) {
  const HistorySize before = history_of(entry);
  // Called when the monotonic countdown ran out: the wall clock only stamps the event.
  SharedEvent event = kind == TimerKind::lease ? entry.record->expire_lease(now.wall, true)
                                               : entry.record->expire_idle(now.wall, config_.idle_timeout_ms, true);
  if (event) account(entry, before, true);
  return event;
}

void Registry::poll_changes(std::vector<RecordChange>& out) {
  for (const auto& [process_id, durable] : changed_) {
    const ProcessRecord* record = find(process_id);
    out.push_back(RecordChange{process_id, durable,
                               record ? std::optional<StoredRecord>(record->stored()) : std::nullopt});
  }
  changed_.clear();
}

RestoreSummary Registry::restore(std::vector<StoredRecord> records, bool clean_shutdown, Now now) {
  RestoreSummary summary;
  for (auto& stored : records) {
    const std::string& id = stored.snapshot.process_id;
    const auto it = entries_.find(id);
    if (!is_valid_process_id(id) || (it != entries_.end() && it->second.record) ||
        records_ >= config_.max_processes) {
      ++summary.skipped;
      continue;
    }
    const bool renew = !clean_shutdown && !is_terminal(stored.snapshot.state);
    std::string epoch = renew ? epochs_.next_epoch() : stored.snapshot.epoch;
    std::vector<SubscriberId> activated;
    Entry& entry = install(id, std::make_unique<ProcessRecord>(stored, std::move(epoch), config_.history),
                           activated);
    arm_record_timers(*entry.record, now);
    ++summary.restored;
    if (renew) {
      ++summary.new_epochs;
      note_change(id, true);  // the new epoch must outlive another crash
    }
  }
  return summary;
}

const ProcessRecord* Registry::find(std::string_view process_id) const {
  auto it = entries_.find(std::string(process_id));
  return it == entries_.end() ? nullptr : it->second.record.get();
}

std::size_t Registry::subscriptions_of(SubscriberId subscriber) const {
  auto it = by_subscriber_.find(subscriber);
  return it == by_subscriber_.end() ? 0 : it->second.size();
}

Registry::Entry& Registry::install(const std::string& process_id, std::unique_ptr<ProcessRecord> record,
                                   std::vector<SubscriberId>& activated) {
  Entry& entry = entries_[process_id];
  entry.record = std::move(record);
  entry.record->bound_history_bytes(config_.history_bytes);
  entry.key = std::make_shared<const std::string>(process_id);
  ++records_;
  pending_ -= entry.subscribers.size();
  activated = entry.subscribers;
  for (SubscriberId subscriber : activated) {
    deadlines_.clear(TimerKey{TimerKind::pending, process_id, subscriber});
  }
  return entry;
}

void Registry::add(Entry& entry, SubscriberId subscriber, const std::string& process_id) {
  entry.position.emplace(subscriber, entry.subscribers.size());
  entry.subscribers.push_back(subscriber);
  by_subscriber_[subscriber].insert(process_id);
  ++subscriptions_;
  if (!entry.record) ++pending_;
}

// Swap-with-last keeps removal O(1) for processes with many listeners.
void Registry::remove(Entry& entry, SubscriberId subscriber, const std::string& process_id) {
  auto pos = entry.position.find(subscriber);
  const std::size_t index = pos->second;
  const SubscriberId last = entry.subscribers.back();
  entry.subscribers[index] = last;
  entry.position[last] = index;
  entry.subscribers.pop_back();
  entry.position.erase(subscriber);
  --subscriptions_;
  if (!entry.record) {
    --pending_;
    deadlines_.clear(TimerKey{TimerKind::pending, process_id, subscriber});
  }
}

void Registry::forget_if_empty(const std::string& process_id) {
  auto it = entries_.find(process_id);
  if (it != entries_.end() && !it->second.record && it->second.subscribers.empty()) entries_.erase(it);
}

void Registry::note_change(const std::string& process_id, bool durable) {
  if (!config_.record_changes) return;
  auto [it, inserted] = changed_.try_emplace(process_id, durable);
  if (!inserted) it->second = it->second || durable;
}

Registry::HistorySize Registry::history_of(const Entry& entry) {
  if (!entry.record) return {};
  return HistorySize{entry.record->history_bytes(), entry.record->history_size()};
}

void Registry::account(Entry& entry, HistorySize before, bool added) {
  const HistorySize after = history_of(entry);
  history_bytes_ = history_bytes_ - before.bytes + after.bytes;
  history_events_ = history_events_ - before.events + after.events;
  if (added && entry.record && entry.record->history_size() > 0) {
    marks_.push_back(HistoryMark{entry.key, entry.record->seq()});
  }
  enforce_budget();
  // Marks of events a record forgot itself (R8) stay until they reach the front: sweep them out
  // once they outnumber the events kept, so the marks stay within twice the events.
  if (marks_.size() > 2 * history_events_ + 64) {
    std::deque<HistoryMark> live;
    for (auto& mark : marks_) {
      const auto it = entries_.find(*mark.key);
      if (it == entries_.end() || it->second.key != mark.key || !it->second.record) continue;
      const auto oldest = it->second.record->oldest_seq();
      if (oldest && *oldest <= mark.seq) live.push_back(std::move(mark));
    }
    marks_ = std::move(live);
  }
}

void Registry::drop_history(const Entry& entry) {
  const HistorySize size = history_of(entry);
  history_bytes_ -= size.bytes;
  history_events_ -= size.events;
}

// The budget trims the oldest events of all histories first (whichever record they belong to),
// so a busy record cannot keep a quiet one's few events from being resumed.
void Registry::enforce_budget() {
  while (history_bytes_ > config_.history_budget_bytes && !marks_.empty()) {
    const HistoryMark mark = std::move(marks_.front());
    marks_.pop_front();
    const auto it = entries_.find(*mark.key);
    if (it == entries_.end() || it->second.key != mark.key || !it->second.record) continue;
    ProcessRecord& record = *it->second.record;
    while (history_bytes_ > config_.history_budget_bytes && record.oldest_seq() && *record.oldest_seq() <= mark.seq) {
      history_bytes_ -= record.trim_oldest();
      --history_events_;
    }
  }
}

void Registry::arm_record_timers(const ProcessRecord& record, Now now) {
  const TimerKey lease{TimerKind::lease, record.process_id(), 0};
  if (auto at = record.lease_deadline()) {
    deadlines_.set(lease, now.mono_at(*at));
  } else {
    deadlines_.clear(lease);
  }
  const TimerKey idle{TimerKind::idle, record.process_id(), 0};
  if (auto at = record.idle_deadline(config_.idle_timeout_ms)) {
    deadlines_.set(idle, now.mono_at(*at));
  } else {
    deadlines_.clear(idle);
  }
  if (auto finished = record.finished_at()) {
    deadlines_.set(TimerKey{TimerKind::retention, record.process_id(), 0},
                   now.mono_at(*finished + config_.retention_ms));
  }
}

}  // namespace progress
