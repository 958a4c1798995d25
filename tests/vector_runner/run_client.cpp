// Suite `client` of tests/vectors/README.md: scripts a ClientSession and matches, after every
// step, the actions and events it produced, in order and exactly.
#include <set>
#include <stdexcept>
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "json_match.hpp"
#include "progress/client_json.hpp"
#include "progress/client_session.hpp"
#include "suites.hpp"

namespace progress::vectors {
namespace {

using nlohmann::json;

// The text a host gets (client_json.hpp) parsed back, after checking it is what dump() writes for
// that value: the writers replaced Json trees, and the hosts saw dump()'s bytes before.
template <class Value, class Write>
json written(const Value& value, Write write) {
  std::string text;
  write(text, value);
  json out = json::parse(text);
  EXPECT_EQ(out.dump(), text) << "not the text dump() writes";
  return out;
}

// The vector's steps compare frames as JSON, so a send's text is parsed here; a session that sends
// invalid JSON fails the case at this parse.
json action_json(const Action& action) {
  json out = written(action, write_action);
  if (out.contains("send")) out["send"] = json::parse(out["send"].get<std::string>());
  return out;
}

const std::set<std::string> kStepKeys = {"at",      "wall",    "do",    "process_id", "generation", "text",
                                         "frame",   "code",    "reason", "actions",   "events",     "state",
                                         "timeout", "note",    "persisted", "token",  "why"};

void run_step(ClientSession& session, const json& step, Now now) {
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
  else if (what == "watch") session.watch(step.at("process_id").get<std::string>(), now);
  else if (what == "release") session.release(step.at("process_id").get<std::string>(), now);
  else if (what == "retain") session.retain(now);
  else if (what == "release_client") session.release_client(now);
  else if (what == "send_failed") session.on_send_failed(generation(), now);
  else if (what == "pageshow") session.on_pageshow(step.at("persisted").get<bool>(), now);
  else if (what == "token") {
    session.on_token(step.at("process_id").get<std::string>(), step.at("token").get<std::string>(), now);
  } else if (what == "token_failed") {
    session.on_token_failed(step.at("process_id").get<std::string>(), step.at("why").get<std::string>(), now);
  }
  else throw std::runtime_error("unknown client step " + what);
}

}  // namespace

void run_client_case(const json& vcase) {
  ClientConfig defaults;
  defaults.url = "ws://hub.test";
  ClientSession session(client_config_from_json(vcase.value("config", json::object()), defaults));
  JsonMatcher matcher;
  // `at` is the monotonic clock; the wall clock runs beside it, `wall` ahead, until a step's
  // `wall` moves it (a sleep, a clock step).
  Millis at = 0;
  Millis wall_ahead = 0;
  int index = 0;
  for (const auto& step : vcase.at("steps")) {
    for (const auto& [key, value] : step.items()) {
      ASSERT_TRUE(kStepKeys.count(key)) << "step " << index << ": unknown key " << key;
    }
    at = step.value("at", at);
    if (step.contains("wall")) wall_ahead = step["wall"].get<Millis>() - at;
    run_step(session, step, Now{MonoMillis(at), at + wall_ahead});
    json actions = json::array();
    for (const auto& action : session.poll_actions()) actions.push_back(action_json(action));
    json events = json::array();
    for (const auto& event : session.poll_events()) events.push_back(written(event, write_event));
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
      const json actual = timeout ? json(timeout->count()) : json(nullptr);
      EXPECT_TRUE(matcher.match(step["timeout"], actual, why)) << where << " timeout: " << why;
    }
    ++index;
  }
}

}  // namespace progress::vectors
