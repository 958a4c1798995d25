// Suite `client` of tests/vectors/README.md: scripts a ClientSession and matches, after every
// step, the actions and events it produced, in order and exactly.
#include <set>
#include <stdexcept>
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "json_match.hpp"
#include "progress/client_session.hpp"
#include "suites.hpp"

namespace progress::vectors {
namespace {

using nlohmann::json;

ClientConfig config_from(const json& overrides) {
  ClientConfig config;
  config.url = "ws://hub.test";
  for (const auto& [key, value] : overrides.items()) {
    if (key == "url") config.url = value.get<std::string>();
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
    else if (key == "seed") config.seed = value.get<std::uint64_t>();
    else throw std::runtime_error("unknown client config key " + key);
  }
  return config;
}

json to_json(const Error& error) {
  json out = {{"code", to_string(error.code)}, {"message", error.message}};
  if (error.process_id) out["process_id"] = *error.process_id;
  return out;
}

json to_json(const ProcessView& view) {
  json stages = json::array();
  for (const auto& span : view.stages) {
    json s = {{"name", span.name}, {"started_at", span.started_at}};
    if (span.ended_at) s["ended_at"] = *span.ended_at;
    stages.push_back(std::move(s));
  }
  json out = {{"process_id", view.process_id}, {"status", to_string(view.status)}, {"epoch", view.epoch},
              {"seq", view.seq},  {"state", to_string(view.state)},   {"stage", view.stage},
              {"percent", view.percent}, {"message", view.message}, {"data", view.data},
              {"updated_at", view.updated_at}, {"stages", std::move(stages)}};
  if (view.result) out["result"] = *view.result;
  if (view.error) out["error"] = *view.error;
  if (view.failure) out["failure"] = {{"code", to_string(view.failure->code)}, {"message", view.failure->message}};
  if (view.eta_ms) out["eta_ms"] = *view.eta_ms;
  return out;
}

struct ActionJson {
  json operator()(const Connect& a) const { return {{"connect", {{"url", a.url}, {"generation", a.generation}}}}; }
  json operator()(const Send& a) const {
    // A send the session produced must be valid JSON: a parse failure here is a test failure.
    return {{"send", json::parse(a.text)}, {"generation", a.generation}};
  }
  json operator()(const Close& a) const {
    return {{"close", {{"code", a.code}, {"reason", a.reason}, {"generation", a.generation}}}};
  }
  json operator()(const SetTimer& a) const { return {{"set_timer", a.at ? json(*a.at) : json(nullptr)}}; }
};

struct EventJson {
  json operator()(const StateChanged& e) const { return {{"state", to_string(e.state)}}; }
  json operator()(const ProgressChanged& e) const { return {{"progress", to_json(e.view)}}; }
  json operator()(const ErrorEvent& e) const { return {{"error", to_json(e.error)}}; }
};

const std::set<std::string> kStepKeys = {"at",    "do",     "process_id", "generation", "text",  "frame", "code",
                                         "reason", "actions", "events",    "state",      "timeout", "note"};

void run_step(ClientSession& session, const json& step, Millis now) {
  const std::string what = step.at("do").get<std::string>();
  auto generation = [&] { return step.at("generation").get<Generation>(); };
  if (what == "start") session.start(now);
  else if (what == "subscribe") session.subscribe(step.at("process_id").get<std::string>(), now);
  else if (what == "unsubscribe") session.unsubscribe(step.at("process_id").get<std::string>(), now);
  else if (what == "open") session.on_open(generation(), now);
  else if (what == "error") session.on_error(generation(), now);
  else if (what == "text") {
    const std::string text = step.contains("frame") ? step["frame"].dump() : step.at("text").get<std::string>();
    session.on_text(generation(), text, now);
  } else if (what == "close") {
    session.on_close(generation(), step.value("code", 1006), step.value("reason", std::string()), now);
  } else if (what == "timer") session.on_timer(now);
  else if (what == "online") session.on_online(now);
  else if (what == "offline") session.on_offline(now);
  else if (what == "visible") session.on_visible(now);
  else if (what == "hidden") session.on_hidden(now);
  else if (what == "reconnect") session.reconnect(now);
  else if (what == "stop") session.stop(now);
  else throw std::runtime_error("unknown client step " + what);
}

}  // namespace

void run_client_case(const json& vcase) {
  ClientSession session(config_from(vcase.value("config", json::object())));
  JsonMatcher matcher;
  Millis now = 0;
  int index = 0;
  for (const auto& step : vcase.at("steps")) {
    for (const auto& [key, value] : step.items()) {
      ASSERT_TRUE(kStepKeys.count(key)) << "step " << index << ": unknown key " << key;
    }
    now = step.value("at", now);
    run_step(session, step, now);
    json actions = json::array();
    for (const auto& action : session.poll_actions()) actions.push_back(std::visit(ActionJson{}, action));
    json events = json::array();
    for (const auto& event : session.poll_events()) events.push_back(std::visit(EventJson{}, event));
    const std::string where = "step " + std::to_string(index) + " (" + step.at("do").get<std::string>() + ")";
    std::string why;
    if (step.contains("actions")) {
      EXPECT_TRUE(matcher.match(step["actions"], actions, why)) << where << " actions: " << why << "\n  got "
                                                                 << actions.dump();
    }
    if (step.contains("events")) {
      EXPECT_TRUE(matcher.match(step["events"], events, why)) << where << " events: " << why << "\n  got "
                                                               << events.dump();
    }
    if (step.contains("state")) {
      EXPECT_EQ(step["state"].get<std::string>(), to_string(session.state())) << where;
    }
    if (step.contains("timeout")) {
      const auto timeout = session.poll_timeout();
      const json actual = timeout ? json(*timeout) : json(nullptr);
      EXPECT_TRUE(matcher.match(step["timeout"], actual, why)) << where << " timeout: " << why;
    }
    ++index;
  }
}

}  // namespace progress::vectors
