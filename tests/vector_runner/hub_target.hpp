#pragma once
// What the `hub` suite drives: the core Hub itself (run_hub.cpp), or a server engine built around
// one (the Redis vector runner in tests/integration). A target answers each call as the Hub would;
// settle() lets an asynchronous one finish everything the call set off before the runner drains.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "progress/hub.hpp"

namespace progress::vectors {

// Times are the script's `at`: one clock, which the core target reads as both (Now::scripted).
class HubTarget {
 public:
  virtual ~HubTarget() = default;
  virtual ConnId open(const Target& target, Millis now) = 0;
  virtual void on_text(ConnId conn, std::string_view text, Millis now) = 0;
  virtual void on_binary(ConnId conn, Millis now) = 0;
  virtual void on_oversize(ConnId conn, Millis now) = 0;
  virtual void on_control(ConnId conn, Millis now) = 0;  // a control ping or pong arrived
  virtual void on_closed(ConnId conn) = 0;
  virtual void tick(Millis now) = 0;
  virtual Result<Snapshot> create_process(std::optional<std::string> process_id, Millis now) = 0;
  virtual Result<Ack> publish(const Publish& publish, Millis now) = 0;
  virtual std::optional<Snapshot> snapshot(const std::string& process_id) = 0;
  virtual void shutdown(Millis now) = 0;

  virtual std::vector<ConnId> poll_dirty() = 0;
  virtual std::optional<SharedText> poll_outgoing(ConnId conn) = 0;
  virtual std::optional<CloseRequest> poll_close(ConnId conn) = 0;
  virtual bool poll_control_ping(ConnId conn) = 0;
  virtual std::size_t queued_bytes(ConnId conn) const = 0;
  virtual std::optional<Millis> poll_timeout() const = 0;
};

// The case's `config` overrides on top of HubConfig's defaults (an unknown key fails the test).
HubConfig hub_config(const nlohmann::json& overrides);

// Runs the case's steps against `target` (built from hub_config(case.config), case.seed, case.start).
void run_hub_script(const nlohmann::json& vcase, HubTarget& target);

}  // namespace progress::vectors
