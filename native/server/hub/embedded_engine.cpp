#include "hub/engine.hpp"

#include <utility>

namespace progress::server {

void embedded_engine::create_process(std::optional<std::string> process_id, created_handler done) {
  const bool existed = process_id && hub_.snapshot(*process_id).has_value();
  auto created = hub_.create_process(std::move(process_id));
  done(std::move(created), !existed);
}

void embedded_engine::publish(Publish publish, ack_handler done) { done(hub_.publish(publish)); }

void embedded_engine::get_process(std::string process_id, record_handler done) {
  done(std::optional<Snapshot>(hub_.snapshot(process_id)));
}

}  // namespace progress::server
