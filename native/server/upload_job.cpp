#include "upload_job.hpp"

#include <utility>

#include "document_analysis.hpp"

namespace progress::server {

upload_worker::upload_worker(net::io_context& ioc, hub_service& hub, http_metrics& metrics, const logger& log,
                             std::size_t max_queued)
    : ioc_(ioc), hub_(hub), metrics_(metrics), log_(log), max_queued_(max_queued), thread_([this] { run(); }) {}

upload_worker::~upload_worker() { stop(); }

bool upload_worker::submit(std::string process_id, std::filesystem::path file) {
  {
    std::lock_guard lock(mutex_);
    if (stop_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(job{std::move(process_id), std::move(file)});
  }
  wake_.notify_one();
  return true;
}

void upload_worker::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    queue_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void upload_worker::run() {
  while (true) {
    job next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_.load() || !queue_.empty(); });
      if (stop_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    run_job(next);
  }
}

void upload_worker::run_job(const job& j) {
  log_.info("job_start", {{"process_id", j.process_id}, {"file", j.file.string()}});
  const auto outcome = analyse_document(
      j.file,
      [&](job_update update) {
        Publish p;
        p.process_id = j.process_id;
        p.state = State::running;
        p.stage = std::move(update.stage);
        p.percent = update.percent;
        p.message = std::move(update.message);
        p.data = std::move(update.data);
        post_publish(std::move(p));
      },
      stop_);
  if (stop_) return;  // shutting down: the hub is closing every stream anyway
  Publish last;
  last.process_id = j.process_id;
  if (outcome.completed) {
    last.state = State::completed;
    last.percent = 100;
    last.message = "analysis complete";
    last.result = outcome.value;
  } else {
    last.state = State::failed;
    last.message = outcome.value.value("message", std::string("the document job failed"));
    last.error = outcome.value;
  }
  log_.info("job_end", {{"process_id", j.process_id}, {"state", std::string(to_string(*last.state))}});
  post_publish(std::move(last));
}

void upload_worker::post_publish(Publish publish) {
  net::post(ioc_, [this, p = std::move(publish)] {
    const auto result = hub_.publish(p);
    if (!result) {
      log_.warn("job_publish_refused", {{"process_id", p.process_id},
                                        {"code", std::string(to_string(result.error().code))},
                                        {"message", result.error().message}});
      return;
    }
    if (p.state == State::completed) ++metrics_.jobs_completed;
    if (p.state == State::failed) ++metrics_.jobs_failed;
  });
}

}  // namespace progress::server
