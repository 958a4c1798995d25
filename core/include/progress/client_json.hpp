#pragma once
// The client session's values as JSON, one spelling for every host: the wasm bindings hand it to
// JavaScript, progress-watch --json prints it, and the vector runner matches it (the `client`
// suite of tests/vectors/README.md). Absent optionals are left out.
#include "progress/client_session.hpp"
#include "progress/protocol.hpp"

namespace progress {

// {process_id, status, epoch, seq, state, stage, percent, message, data, updated_at,
//  stages: [{name, started_at, ended_at?}], result?, error?, failure?: {code, message, reason?}, eta_ms?,
//  display}
Json view_to_json(const ProcessView& view);
// {status, status_text, title, terminal, percent, percent_text, eta_ms?, eta_text, error_code,
//  error_text, stages: [{label, duration_text}] (one per view stage)}
Json display_to_json(const Display& display);
// {code, message, process_id?}
Json error_to_json(const Error& error);
// {"connect": {url, generation}} | {"send": "<frame text>", generation} |
// {"close": {code, reason, generation}} | {"set_timer": at | null} | {"need_token": process_id}
Json action_to_json(const Action& action);
// {"state": "...", "label": "..."} | {"progress": view} | {"error": error} | {"removed": id}
Json event_to_json(const ClientEvent& event);
// ClientConfig from an object of overrides. An unknown key or a wrong type throws
// std::invalid_argument / nlohmann::json::exception, so a typo never falls back to a default.
ClientConfig client_config_from_json(const Json& overrides, ClientConfig base = {});

}  // namespace progress
