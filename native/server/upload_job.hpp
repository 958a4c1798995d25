#pragma once
// Runs document jobs on one worker thread, in arrival order. The worker never touches the hub:
// each update is posted to the io_context thread, which owns it.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "hub_service.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "net.hpp"

namespace progress::server {

class upload_worker {
 public:
  upload_worker(net::io_context& ioc, hub_service& hub, http_metrics& metrics, const logger& log,
                std::size_t max_queued);
  ~upload_worker();
  upload_worker(const upload_worker&) = delete;
  upload_worker& operator=(const upload_worker&) = delete;

  // False when max_queued jobs are already waiting (the caller answers 503).
  bool submit(std::string process_id, std::filesystem::path file);
  // Abandons queued jobs and makes the running one stop at its next chunk; joins the thread.
  void stop();

 private:
  struct job {
    std::string process_id;
    std::filesystem::path file;
  };
  void run();
  void run_job(const job& j);
  void post_publish(Publish publish);

  net::io_context& ioc_;
  hub_service& hub_;
  http_metrics& metrics_;
  const logger& log_;
  std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace progress::server
