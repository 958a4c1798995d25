#pragma once
// What nodes sharing one store of records (HubConfig::records_are_external, the Redis engine) write
// and pass to each other, spelled once so every node reads what another wrote:
//
//   record   encode_stored (record_store.hpp): the snapshot plus what a snapshot hides
//   event    one history entry: the progress frame and whether it opened a stage
//   change   what a node announces after a write: the new record and the event that made it (none
//            for a creation), so a mirror never has to re-derive a record from events
#include <cstddef>
#include <string>
#include <string_view>

#include "progress/process_record.hpp"
#include "progress/protocol.hpp"

namespace progress {

struct SharedChange {
  ProcessRecord record;
  SharedEvent event;  // null for a creation
};

// A record under its own epoch, with no history; `history` bounds the decoded record's history.
std::string encode_record(const ProcessRecord& record);
Result<ProcessRecord> decode_record(std::string_view text, std::size_t history);

std::string encode_shared_event(const RecordedEvent& recorded);
Result<RecordedEvent> decode_shared_event(std::string_view text);

std::string encode_change(const ProcessRecord& record, const RecordedEvent* event);
Result<SharedChange> decode_change(std::string_view text, std::size_t history);

}  // namespace progress
