#include "progress/client_json.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace progress {

Json error_to_json(const Error& error) {
  Json out = {{"code", to_string(error.code)}, {"message", error.message}};
  if (error.process_id) out["process_id"] = *error.process_id;
  if (error.reason) out["reason"] = to_string(*error.reason);
  return out;
}

// Tables and loops rather than one initializer list: each listed key costs the browser's module
// code of its own.
Json display_to_json(const Display& display) {
  static constexpr std::pair<const char*, const std::string Display::*> kTexts[] = {
      {"status", &Display::status},         {"status_text", &Display::status_text},
      {"title", &Display::title},           {"percent_text", &Display::percent_text},
      {"eta_text", &Display::eta_text},     {"error_code", &Display::error_code},
      {"error_text", &Display::error_text},
  };
  Json out = Json::object();
  for (const auto& [key, member] : kTexts) out[key] = display.*member;
  out["terminal"] = display.terminal;
  out["percent"] = display.percent;
  if (display.eta_ms) out["eta_ms"] = *display.eta_ms;
  Json& stages = out["stages"] = Json::array();
  for (const auto& span : display.stages) {
    Json& s = stages.emplace_back(Json::object());
    s["label"] = span.label;
    s["duration_text"] = span.duration_text;
  }
  return out;
}

Json view_to_json(const ProcessView& view) {
  Json stages = Json::array();
  for (const auto& span : view.stages) {
    Json s = {{"name", span.name}, {"started_at", span.started_at}};
    if (span.ended_at) s["ended_at"] = *span.ended_at;
    stages.push_back(std::move(s));
  }
  Json out = {{"process_id", view.process_id},
              {"status", to_string(view.status)},
              {"epoch", view.epoch},
              {"seq", view.seq},
              {"state", to_string(view.state)},
              {"stage", view.stage},
              {"percent", view.percent},
              {"message", plain(view.message)},
              {"data", plain(view.data)},
              {"updated_at", view.updated_at},
              {"stages", std::move(stages)}};
  if (view.result) out["result"] = *view.result;
  if (view.error) out["error"] = *view.error;
  if (view.failure) {
    out["failure"] = error_to_json(*view.failure);
    out["failure"].erase("process_id");  // the view names its process already
  }
  if (view.eta_ms) out["eta_ms"] = *view.eta_ms;
  out["display"] = display_to_json(view.display);
  return out;
}

namespace {

struct ActionJson {
  Json operator()(const Connect& a) const { return {{"connect", {{"url", a.url}, {"generation", a.generation}}}}; }
  // The frame stays text: a host sends it as is, so parsing it here would be wasted work.
  Json operator()(const Send& a) const { return {{"send", a.text}, {"generation", a.generation}}; }
  Json operator()(const Close& a) const {
    return {{"close", {{"code", a.code}, {"reason", a.reason}, {"generation", a.generation}}}};
  }
  Json operator()(const SetTimer& a) const { return {{"set_timer", a.at ? Json(*a.at) : Json(nullptr)}}; }
  Json operator()(const NeedToken& a) const { return {{"need_token", a.process_id}}; }
};

struct EventJson {
  Json operator()(const StateChanged& e) const {
    return {{"state", to_string(e.state)}, {"label", connection_label(e.state)}};
  }
  Json operator()(const WatchRemoved& e) const { return {{"removed", e.process_id}}; }
  Json operator()(const ProgressChanged& e) const { return {{"progress", view_to_json(e.view)}}; }
  Json operator()(const ErrorEvent& e) const { return {{"error", error_to_json(e.error)}}; }
};

}  // namespace

Json action_to_json(const Action& action) { return std::visit(ActionJson{}, action); }

Json event_to_json(const ClientEvent& event) { return std::visit(EventJson{}, event); }

ClientConfig client_config_from_json(const Json& overrides, ClientConfig config) {
  if (!overrides.is_object()) throw std::invalid_argument("client options must be a JSON object");
  for (const auto& [key, value] : overrides.items()) {
    if (key == "url") config.url = value.get<std::string>();
    else if (key == "seed") config.seed = value.get<std::uint64_t>();
    else if (key == "backoff_min_ms") config.backoff_min_ms = value.get<std::int64_t>();
    else if (key == "backoff_max_ms") config.backoff_max_ms = value.get<std::int64_t>();
    else if (key == "heartbeat_ms") config.heartbeat_ms = value.get<std::int64_t>();
    else if (key == "stale_grace_ms") config.stale_grace_ms = value.get<std::int64_t>();
    else if (key == "connect_timeout_ms") config.connect_timeout_ms = value.get<std::int64_t>();
    else if (key == "suspend_after_ms") config.suspend_after_ms = value.get<std::int64_t>();
    else if (key == "suspended_retry_ms") config.suspended_retry_ms = value.get<std::int64_t>();
    else if (key == "probe_timeout_ms") config.probe_timeout_ms = value.get<std::int64_t>();
    else if (key == "min_stable_ms") config.min_stable_ms = value.get<std::int64_t>();
    else if (key == "clock_jump_ms") config.clock_jump_ms = value.get<std::int64_t>();
    else if (key == "linger_ms") config.linger_ms = value.get<std::int64_t>();
    else if (key == "tokens") config.tokens = value.get<bool>();
    else if (key == "token_timeout_ms") config.token_timeout_ms = value.get<std::int64_t>();
    else throw std::invalid_argument("unknown client option " + key);
  }
  return config;
}

}  // namespace progress
