#pragma once
// Where process records live, as the HTTP API reaches them. The embedded engine (the default)
// keeps them in the node's own hub; the Redis engine (redis_engine.hpp) keeps them in Redis, shared
// by every node, and the hub only mirrors what its subscribers watch. A call may complete at once
// (embedded) or later (Redis); either way on the io_context thread, exactly once.
#include <functional>
#include <optional>
#include <string>

#include "hub/hub_service.hpp"
#include "progress/protocol.hpp"

namespace progress::server {

class engine {
 public:
  using created_handler = std::function<void(Result<Snapshot> record, bool created)>;
  using ack_handler = std::function<void(Result<Ack>)>;
  using record_handler = std::function<void(Result<std::optional<Snapshot>>)>;

  virtual ~engine() = default;
  // An existing id answers its record unchanged with created = false.
  virtual void create_process(std::optional<std::string> process_id, created_handler done) = 0;
  // `publish` has passed validate() (decode_publish_body runs it).
  virtual void publish(Publish publish, ack_handler done) = 0;
  virtual void get_process(std::string process_id, record_handler done) = 0;
  // The built-in document job runs on a worker thread and posts its publishes to the event loop,
  // which applies them to the embedded hub; the Redis engine has no such job (uploads answer 503).
  virtual bool runs_upload_jobs() const = 0;
};

class embedded_engine final : public engine {
 public:
  explicit embedded_engine(hub_service& hub) : hub_(hub) {}
  void create_process(std::optional<std::string> process_id, created_handler done) override;
  void publish(Publish publish, ack_handler done) override;
  void get_process(std::string process_id, record_handler done) override;
  bool runs_upload_jobs() const override { return true; }

 private:
  hub_service& hub_;
};

}  // namespace progress::server
