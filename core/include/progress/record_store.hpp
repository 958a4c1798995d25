#pragma once
// What a durable store needs from the hub, with no I/O in it: which records changed and how
// urgently (Hub::poll_changes), a record's storable form and its JSON spelling, and the rule for
// loading records back after a restart (Hub::restore).
//
//   durable     creation, stage change, terminal state, lease expiry, removal after retention:
//               committed before anything about the change is sent or acknowledged.
//   write-behind intermediate progress: written in batches; an unclean stop may lose the newest.
//
// Restore rule: after a clean shutdown (every change flushed) a record keeps its epoch and seq.
// After an unclean stop a non-terminal record may have sent events that never reached the disk,
// so it comes back under a new epoch (seq continues from the stored one): a client resuming with
// the old epoch gets a fresh snapshot instead of a gap or a seq it mistakes for a duplicate.
// Terminal records were committed before they were sent, so they keep their epoch.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "progress/protocol.hpp"
#include "progress/time.hpp"

namespace progress {

// A record as a store keeps it. No history: a client that resumes from before `snapshot.seq`
// after a restart gets the snapshot, which is always correct.
struct StoredRecord {
  Snapshot snapshot;
  // Kept apart from the snapshot, which shows them only once the record is terminal.
  std::optional<Json> result;
  std::optional<Json> error;
  std::optional<std::int64_t> lease_ms;
  std::optional<Millis> lease_deadline;  // absolute: a lease keeps running while the hub is down
  std::optional<Millis> finished_at;     // retention continues from here
  bool operator==(const StoredRecord&) const = default;
};

struct RecordChange {
  std::string process_id;
  bool durable = false;                // commit before sending anything (see the table above)
  std::optional<StoredRecord> record;  // nullopt: the record is gone, delete it
};

struct RestoreSummary {
  std::size_t restored = 0;
  std::size_t new_epochs = 0;  // non-terminal records after an unclean stop
  std::size_t skipped = 0;     // invalid id, already present, or over max_processes
};

std::string encode_stored(const StoredRecord& record);
// bad_frame with a message naming what is wrong when `text` is not a stored record.
Result<StoredRecord> decode_stored(std::string_view text);

}  // namespace progress
