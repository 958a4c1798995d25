#pragma once
// What an external store of records (HubConfig::records_are_external, the Redis engine) keeps and
// passes between nodes, spelled once so every node reads what another wrote:
//
//   record   ProcessRecord::to_stored(): the snapshot plus what a snapshot hides (result/error set
//            before the end, lease, finished_at)
//   event    one history entry: the progress frame and whether it opened a stage
//   change   what a node announces after a write: the new record and the event that made it (none
//            for a creation), so a mirror never has to re-derive a record from events
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "progress/process_record.hpp"
#include "progress/protocol.hpp"

namespace progress {

struct Change {
  ProcessRecord record;
  std::optional<RecordedEvent> event;
};

std::string encode_stored_event(const RecordedEvent& recorded);
Result<RecordedEvent> decode_stored_event(std::string_view text);

std::string encode_change(const ProcessRecord& record, const RecordedEvent* event);
// `history`: the mirror's history bound for the decoded record.
Result<Change> decode_change(std::string_view text, std::size_t history);

}  // namespace progress
