#include "jobs/upload_job.hpp"

#include <system_error>
#include <utility>

#include "jobs/document_analysis.hpp"

namespace progress::server {

upload_worker::job& upload_worker::job::operator=(job&& other) noexcept {
  if (this != &other) {
    delete_file();
    process_id = std::move(other.process_id);
    file = std::exchange(other.file, {});
    quota = std::move(other.quota);
  }
  return *this;
}

void upload_worker::job::delete_file() noexcept {
  if (file.empty()) return;
  std::error_code ignored;
  std::filesystem::remove(file, ignored);
  file.clear();
}

upload_worker::upload_worker(net::io_context& ioc, hub_service& hub, http_metrics& metrics, const logger& log,
                             std::size_t max_queued)
    : ioc_(ioc), hub_(hub), metrics_(metrics), log_(log), max_queued_(max_queued), thread_([this] { run(); }) {}

upload_worker::~upload_worker() { stop(); }

bool upload_worker::submit(std::string process_id, std::filesystem::path file, upload_quota::ticket quota) {
  job next(std::move(process_id), std::move(file), std::move(quota));
  {
    std::lock_guard lock(mutex_);
    if (stop_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(next));
  }
  wake_.notify_one();
  return true;
}

void upload_worker::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    queue_.clear();  // deletes their files
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
  }  // `next` ends here: its file is deleted and its quota given back
}

void upload_worker::run_job(job& j) {
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
  // Gone before the end is announced: whoever sees the job end finds no file left.
  j.delete_file();
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
