#include "ws/lane_transport.hpp"

#include <memory>

namespace progress::server {

std::optional<send_outcome> lane_transport::write(std::size_t offset) {
  busy_ = true;
  // The job keeps the session, which owns this transport, alive until the answer.
  std::shared_ptr<lane_client> client(events(), static_cast<lane_client*>(this));
  queue_.submit(send_job{std::move(client), socket_.native_handle(), &batch_, offset, {}});
  return std::nullopt;
}

void lane_transport::on_sent(send_outcome outcome) {
  busy_ = false;
  if (close_waiting_) {
    batch_.clear();
    inline_transport::close();
    return;
  }
  session().on_written(outcome);  // the job that brought the answer still holds the session
}

void lane_transport::release() {
  if (batch_.capacity() != 0) batch_ = {};
}

void lane_transport::close() {
  if (busy_) {
    close_waiting_ = true;
    return;
  }
  inline_transport::close();
}

}  // namespace progress::server
