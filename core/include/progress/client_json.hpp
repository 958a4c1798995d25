#pragma once
// The client session's values as JSON, one spelling for every host: the wasm bindings hand it to
// JavaScript, progress-watch --json prints it, and the vector runner matches it (the `client`
// suite of tests/vectors/README.md). Absent optionals are left out; keys are in byte order.
#include <string>

#include "progress/client_session.hpp"
#include "progress/protocol.hpp"

namespace progress {

// Each value appended to `out` as JSON text, written directly (json_writer.hpp) rather than
// through a Json tree: the browser's module then needs no JSON serializer of its own.
//
// {process_id, status, epoch, seq, state, stage, percent, message, data, updated_at,
//  stages: [{name, started_at, ended_at?}], result?, error?, failure?: {code, message, reason?},
//  eta_ms?, display: {status, status_text, title, terminal, percent, percent_text, eta_ms?,
//  eta_text, error_code, error_text, stages: [{label, duration_text}] (one per view stage)}}
void write_view(std::string& out, const ProcessView& view);
// {code, message, process_id?, reason?}
void write_error(std::string& out, const Error& error);
// {"connect": {url, generation}} | {"send": "<frame text>", generation} |
// {"close": {code, reason, generation}} | {"set_timer": at | null} | {"need_token": process_id}
void write_action(std::string& out, const Action& action);
// {"state": "...", "label": "..."} | {"progress": view} | {"error": error} | {"removed": id}
void write_event(std::string& out, const ClientEvent& event);

// ClientConfig from an object of overrides. An unknown key or a wrong type throws
// std::invalid_argument / nlohmann::json::exception, so a typo never falls back to a default.
ClientConfig client_config_from_json(const Json& overrides, ClientConfig base = {});

}  // namespace progress
