// The `hub` suite of tests/vectors/README.md: a scripted run of a HubTarget (the core Hub here),
// draining every connection after each step the way a driver would (poll_dirty, poll_outgoing,
// poll_close).
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hub_target.hpp"
#include "json_match.hpp"
#include "progress/codec.hpp"
#include "progress/hub.hpp"
#include "suites.hpp"

namespace progress::vectors {

using nlohmann::json;

HubConfig hub_config(const json& overrides) {
  HubConfig c;
  auto set = [&overrides](const char* key, auto& field) {
    if (overrides.contains(key)) field = overrides.at(key).get<std::decay_t<decltype(field)>>();
  };
  set("heartbeat_ms", c.heartbeat_ms);
  set("stale_grace_ms", c.stale_grace_ms);
  set("pending_timeout_ms", c.pending_timeout_ms);
  set("retention_ms", c.retention_ms);
  set("health_interval_ms", c.health_interval_ms);
  set("history", c.history);
  set("history_bytes", c.history_bytes);
  set("history_budget_bytes", c.history_budget_bytes);
  set("idle_timeout_ms", c.idle_timeout_ms);
  set("max_processes", c.max_processes);
  set("max_subscriptions", c.max_subscriptions);
  set("max_subscriptions_per_connection", c.max_subscriptions_per_connection);
  set("max_frame_bytes", c.max_frame_bytes);
  set("max_queue_bytes", c.max_queue_bytes);
  set("server_name", c.server_name);
  set("max_frames_per_s", c.max_frames_per_s);
  set("frame_burst", c.frame_burst);
  set("max_publish_frames_per_s", c.max_publish_frames_per_s);
  set("rate_limit_grace", c.rate_limit_grace);
  const json known = json::array({"heartbeat_ms", "stale_grace_ms", "pending_timeout_ms", "retention_ms",
                                  "health_interval_ms", "history", "history_bytes", "history_budget_bytes",
                                  "idle_timeout_ms", "max_processes", "max_subscriptions",
                                  "max_subscriptions_per_connection", "max_frame_bytes", "max_queue_bytes",
                                  "server_name", "max_frames_per_s", "frame_burst", "max_publish_frames_per_s",
                                  "rate_limit_grace"});
  for (const auto& item : overrides.items()) {
    EXPECT_NE(std::find(known.begin(), known.end(), json(item.key())), known.end())
        << "unknown config key " << item.key();
  }
  return c;
}

namespace {

json error_json(const Error& e) {
  return json{{"error", std::string(to_string(e.code))}, {"message", e.message}};
}

class CoreTarget final : public HubTarget {
 public:
  explicit CoreTarget(const json& vcase)
      : hub_(hub_config(vcase.value("config", json::object())), Now::scripted(vcase.value("start", Millis{0})),
             vcase.value("seed", std::uint64_t{0})) {}

  ConnId open(const Target& target, Millis now) override { return hub_.open(target, Now::scripted(now)); }
  void on_text(ConnId conn, std::string_view text, Millis now) override {
    hub_.on_text(conn, text, Now::scripted(now));
  }
  void on_binary(ConnId conn, Millis now) override { hub_.on_binary(conn, Now::scripted(now)); }
  void on_oversize(ConnId conn, Millis now) override { hub_.on_oversize(conn, Now::scripted(now)); }
  void on_control(ConnId conn, Millis now) override { hub_.on_control(conn, Now::scripted(now)); }
  void on_closed(ConnId conn) override { hub_.on_closed(conn); }
  void tick(Millis now) override { hub_.handle_timeout(Now::scripted(now)); }
  Result<Snapshot> create_process(std::optional<std::string> process_id, Millis now) override {
    return hub_.create_process(std::move(process_id), Now::scripted(now));
  }
  Result<Ack> publish(const Publish& publish, Millis now) override { return hub_.publish(publish, Now::scripted(now)); }
  std::optional<Snapshot> snapshot(const std::string& process_id) override {
    return hub_.snapshot(process_id);
  }
  void shutdown(Millis now) override { hub_.close_all(Now::scripted(now)); }
  std::vector<ConnId> poll_dirty() override { return hub_.poll_dirty(); }
  std::optional<SharedText> poll_outgoing(ConnId conn) override { return hub_.poll_outgoing(conn); }
  std::optional<CloseRequest> poll_close(ConnId conn) override { return hub_.poll_close(conn); }
  bool poll_control_ping(ConnId conn) override { return hub_.poll_control_ping(conn); }
  std::size_t queued_bytes(ConnId conn) const override { return hub_.queued_bytes(conn); }
  std::optional<Millis> poll_timeout() const override {
    const auto at = hub_.poll_timeout();
    return at ? std::optional<Millis>(at->count()) : std::nullopt;
  }

 private:
  Hub hub_;
};

class HubScript {
 public:
  HubScript(const json& vcase, HubTarget& hub) : hub_(hub), now_(vcase.value("start", Millis{0})) {}

  void run(const json& steps) {
    std::size_t index = 0;
    for (const auto& step : steps) {
      SCOPED_TRACE("step " + std::to_string(index++) + ": " + step.dump());
      run_step(step);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

 private:
  void run_step(const json& step) {
    now_ = step.value("at", now_);
    const std::string action = step.at("do").get<std::string>();
    std::optional<json> returned;
    if (action == "open") {
      const std::string target = step.at("target").get<std::string>();
      auto parsed = parse_target(target);
      ASSERT_TRUE(parsed.has_value()) << "target " << target << " is not a streaming endpoint";
      const std::string name = step.at("conn").get<std::string>();
      ASSERT_FALSE(conns_.contains(name)) << "connection " << name << " is already open";
      conns_[name] = Conn{hub_.open(*parsed, now_), parsed->endpoint == Endpoint::test_echo};
    } else if (action == "text") {
      const std::string text =
          step.contains("text") ? step.at("text").get<std::string>() : step.at("frame").dump();
      hub_.on_text(conn(step), text, now_);
    } else if (action == "binary") {
      hub_.on_binary(conn(step), now_);
    } else if (action == "oversize") {
      hub_.on_oversize(conn(step), now_);
    } else if (action == "control_pong") {
      hub_.on_control(conn(step), now_);
    } else if (action == "closed") {
      hub_.on_closed(conn(step));
      conns_.erase(step.at("conn").get<std::string>());
    } else if (action == "tick") {
      hub_.tick(now_);
    } else if (action == "create") {
      std::optional<std::string> id;
      if (step.contains("process_id")) id = step.at("process_id").get<std::string>();
      auto r = hub_.create_process(id, now_);
      returned = r ? json{{"result", to_json(r.value())}} : error_json(r.error());
    } else if (action == "publish") {
      auto body = step.at("body");
      const std::string path_id = body.value("process_id", std::string());
      auto decoded = decode_publish_body(body.dump(), path_id);
      if (!decoded) {
        returned = error_json(decoded.error());
      } else {
        auto r = hub_.publish(decoded.value(), now_);
        returned = r ? json{{"result", to_json(ServerFrame{r.value()})}} : error_json(r.error());
      }
    } else if (action == "get") {
      auto s = hub_.snapshot(step.at("process_id").get<std::string>());
      returned = json{{"result", s ? to_json(*s) : json(nullptr)}};
    } else if (action == "shutdown") {
      hub_.shutdown(now_);
    } else {
      FAIL() << "unknown action " << action;
    }
    check_outputs(step, drain());
    if (step.contains("return")) {
      ASSERT_TRUE(returned.has_value()) << "this action returns nothing";
      std::string why;
      EXPECT_TRUE(matcher_.match(step.at("return"), *returned, why)) << "return: " << why;
    }
    if (step.contains("timeout")) {
      auto t = hub_.poll_timeout();
      json actual = t ? json(*t) : json(nullptr);
      EXPECT_EQ(step.at("timeout"), actual) << "poll_timeout()";
    }
  }

  ConnId conn(const json& step) {
    const std::string name = step.at("conn").get<std::string>();
    auto it = conns_.find(name);
    if (it == conns_.end()) {
      ADD_FAILURE() << "unknown connection " << name;
      return 0;
    }
    return it->second.id;
  }

  // What each connection received in this step, keyed by name.
  json drain() {
    std::map<ConnId, std::string> names;
    for (const auto& [name, c] : conns_) names[c.id] = name;
    json out = json::object();
    for (ConnId id : hub_.poll_dirty()) {
      auto name = names.find(id);
      if (name == names.end()) continue;
      const bool raw = conns_.at(name->second).raw;
      json frames = json::array();
      while (auto text = hub_.poll_outgoing(id)) {
        if (raw) {
          frames.push_back(**text);
        } else {
          json parsed = json::parse(**text, nullptr, false);
          if (parsed.is_discarded()) {
            // The one text frame that is not JSON: the answer to a legacy client's text `ping`.
            EXPECT_EQ(**text, "pong") << "not JSON";
            frames.push_back(**text);
          } else {
            frames.push_back(parsed);
          }
        }
      }
      if (!frames.empty()) out[name->second] = frames;
      if (hub_.poll_control_ping(id)) out[name->second + ".control_ping"] = true;
      if (auto close = hub_.poll_close(id))
        out[name->second + ".close"] = {{"code", close->code}, {"reason", close->reason}};
    }
    // A connection with output must have been reported dirty: check nothing was left behind.
    for (const auto& [name, c] : conns_) {
      EXPECT_EQ(hub_.queued_bytes(c.id), 0u) << name << " has frames poll_dirty() did not report";
    }
    return out;
  }

  void check_outputs(const json& step, const json& received) {
    const json expect = step.value("expect", json::object());
    const bool others_any = step.value("others", std::string()) == "any";
    for (const auto& [key, expected] : expect.items()) {
      std::string why;
      auto it = received.find(key);
      const json actual =
          it == received.end() ? (key.ends_with(".close") ? json(nullptr) : json::array()) : *it;
      if (expected.is_null()) {
        EXPECT_TRUE(actual.is_null() || actual.empty()) << key << " expected nothing, got " << actual.dump();
        continue;
      }
      EXPECT_TRUE(matcher_.match(expected, actual, why)) << key << ": " << why;
    }
    if (others_any) return;
    for (const auto& [key, actual] : received.items()) {
      EXPECT_TRUE(expect.contains(key)) << key << " got unexpected output " << actual.dump();
    }
  }

  struct Conn {
    ConnId id = 0;
    bool raw = false;  // /ws/test: frames are compared as raw text
  };

  HubTarget& hub_;
  Millis now_;
  std::map<std::string, Conn> conns_;
  JsonMatcher matcher_;
};

}  // namespace

void run_hub_script(const json& vcase, HubTarget& target) {
  HubScript script(vcase, target);
  script.run(vcase.at("steps"));
}

void run_hub_case(const json& vcase) {
  CoreTarget target(vcase);
  run_hub_script(vcase, target);
}

}  // namespace progress::vectors
