#pragma once
// The authoritative state of one process. Every rule about how a publish changes a record lives
// in process_record.cpp (h11 `_state.py` style: nothing else decides these):
//
//   R1  a terminal record (completed, failed, cancelled) is final: any publish -> process_finished.
//   R2  `state: pending` is refused (invalid_update); no `state` moves pending -> running and
//       keeps running otherwise.
//   R3  `percent` never decreases: a lower value is refused (invalid_update), never clamped;
//       absent keeps the current one; `completed` sets 100.
//   R4  absent `stage`, `message`, `data` keep the current values.
//   R5  a new stage ends the open span (ended_at = now) and opens one (started_at = now); a
//       terminal publish ends the open span.
//   R6  every accepted publish is one event: seq + 1, ts = updated_at = now, full view.
//   R7  `lease_ms > 0` arms a lease of that length, re-armed by every later publish; `0` clears
//       it; a terminal publish clears it. Expiry -> failed with error {code: stalled}.
//   R8  the last `history` events are kept for resume, and no more than `history_bytes` of them
//       (event_bytes below); older ones are forgotten. A registry may trim more (its global budget).
//       An event shares `message` and `data` with the event before when the publish left them as
//       they were, and is charged for them only when it does not.
//   R9  at most kMaxStageSpans stages: a publish opening one more is refused (invalid_update), so
//       a snapshot (which lists every span) stays bounded.
//   R10 a record that is not terminal and has no lease expires after `idle_ms` without a publish
//       (counted from updated_at): failed with error {code: stalled}, like an expired lease.
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "progress/protocol.hpp"
#include "progress/record_store.hpp"
#include "progress/time.hpp"

namespace progress {

inline constexpr std::size_t kMaxStageSpans = 64;

// One event of the history with what conflation needs to know about it.
struct RecordedEvent {
  ProgressEvent event;
  bool stage_changed = false;  // the event opened a new stage: never conflated away
};
// An accepted event is built once and shared by the record's history, the fan-out and any resume
// replaying it: a copy would copy `data`, the largest part of it.
using SharedEvent = std::shared_ptr<const RecordedEvent>;

// Memory an event of a history holds: its own parts, plus `message` and `data` unless it shares
// them with `previous` (the event before it in the history; null for the oldest). An estimate of
// the allocator's bytes, not of the wire form.
std::size_t event_bytes(const RecordedEvent& recorded, const RecordedEvent* previous) noexcept;

class ProcessRecord {
 public:
  // A new record: seq 0, pending, stage "" and no history.
  ProcessRecord(std::string process_id, std::string epoch, Millis now, std::size_t history);
  // A record loaded back from a store under `epoch` (its own, or a new one after an unclean stop),
  // with an empty history.
  ProcessRecord(const StoredRecord& stored, std::string epoch, std::size_t history);

  // An accepted update's stage, message, data, result and error are moved into the record, not
  // copied (its ids stay); a refused one is left as it was.
  Result<SharedEvent> apply(Publish&& publish, Millis now);
  Result<SharedEvent> apply(const Publish& publish, Millis now) { return apply(Publish(publish), now); }
  // The lease ran out (R7): the failing event, or null when no lease is due at wall time `now`.
  // `due`: the caller's monotonic countdown ran out, so the wall clock, which an NTP step may have
  // moved, is not asked again; `now` only stamps the event.
  SharedEvent expire_lease(Millis now, bool due = false);
  // R10: when idle expiry falls due for a record with no lease (nullopt: it never does).
  std::optional<Millis> idle_deadline(std::int64_t idle_ms) const noexcept;
  // R10: the failing event, or null when the record is not idle past `idle_ms` at `now`.
  SharedEvent expire_idle(Millis now, std::int64_t idle_ms, bool due = false);

  // R8: the byte bound of the history (none until set), applied at once.
  void bound_history_bytes(std::size_t bytes);
  std::size_t history_bytes() const noexcept { return history_bytes_; }
  std::size_t history_size() const noexcept { return history_.size(); }
  // The seq of the oldest event kept (nullopt: no history).
  std::optional<Seq> oldest_seq() const noexcept;
  // Forgets the oldest event kept; returns the bytes that frees.
  std::size_t trim_oldest();

  Snapshot snapshot() const;
  StoredRecord stored() const;
  // Events with seq > after_seq, or nullopt when the history no longer reaches back that far or
  // after_seq is ahead of the record.
  std::optional<std::vector<SharedEvent>> events_after(Seq after_seq) const;

  // A mirror taking the store's newer record: `event` follows `previous` directly, so the history
  // carries on; otherwise (start_history) only what the store sent is known.
  void continue_history(ProcessRecord&& previous, SharedEvent event);
  void start_history(const std::vector<SharedEvent>& events);
  // Takes the older events `other` (the same record, read at another time) has and this lacks.
  void absorb_history(const ProcessRecord& other);

  const std::string& process_id() const noexcept { return view_.process_id; }
  const std::string& epoch() const noexcept { return view_.epoch; }
  Seq seq() const noexcept { return view_.seq; }
  Millis updated_at() const noexcept { return updated_at_; }
  State state() const noexcept { return view_.state; }
  bool finished() const noexcept { return is_terminal(view_.state); }
  std::optional<Millis> lease_deadline() const noexcept { return lease_deadline_; }
  std::optional<Millis> finished_at() const noexcept { return finished_at_; }

 private:
  void remember(SharedEvent recorded);
  void recount_history();  // after the history was replaced wholesale
  SharedEvent record_event(bool stage_changed, Millis now);
  void enter_stage(const std::string& stage, Millis now);
  void finish(Millis now);

  // The process as it is now, result and error included before they are shown; `message` and
  // `data` are shared with the events that carry them, not copied.
  ProcessFields view_;
  Millis updated_at_ = 0;
  std::vector<StageSpan> stages_;
  std::optional<std::int64_t> lease_ms_;
  std::optional<Millis> lease_deadline_;
  std::optional<Millis> finished_at_;
  std::size_t history_limit_;
  std::size_t history_bytes_limit_ = static_cast<std::size_t>(-1);
  std::size_t history_bytes_ = 0;
  std::deque<SharedEvent> history_;
};

}  // namespace progress
