#pragma once
// Runs document jobs on one worker thread, in arrival order. The worker never touches the hub:
// each update is posted to the io_context thread, which owns it. An upload's file is deleted when
// its job ends, however it ends: completed, failed, abandoned at shutdown or never queued.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "hub/hub_service.hpp"
#include "base/log.hpp"
#include "hub/metrics.hpp"
#include "base/net.hpp"
#include "jobs/upload_quota.hpp"

namespace progress::server {

// Stored uploads are named <process id>.<n>.upload; files with this extension left in the data dir
// at start-up belong to jobs that never ran and are deleted.
inline constexpr const char* kUploadFileExtension = ".upload";

class upload_worker {
 public:
  upload_worker(net::io_context& ioc, hub_service& hub, http_metrics& metrics, const logger& log,
                std::size_t max_queued);
  ~upload_worker();
  upload_worker(const upload_worker&) = delete;
  upload_worker& operator=(const upload_worker&) = delete;

  // False when max_queued jobs are already waiting (the caller answers 503); the file is deleted
  // then too. `quota` is held until the job ends.
  bool submit(std::string process_id, std::filesystem::path file, upload_quota::ticket quota = {});
  // Abandons queued jobs and makes the running one stop at its next chunk; joins the thread.
  void stop();

 private:
  // Owns its file: destroying the job (run, abandoned or refused) deletes it.
  struct job {
    job() = default;
    job(std::string id, std::filesystem::path f, upload_quota::ticket t)
        : process_id(std::move(id)), file(std::move(f)), quota(std::move(t)) {}
    job(job&& other) noexcept
        : process_id(std::move(other.process_id)),
          file(std::exchange(other.file, {})),
          quota(std::move(other.quota)) {}
    job& operator=(job&& other) noexcept;
    job(const job&) = delete;
    job& operator=(const job&) = delete;
    ~job() { delete_file(); }
    void delete_file() noexcept;
    std::string process_id;
    std::filesystem::path file;
    upload_quota::ticket quota;
  };
  void run();
  void run_job(job& j);
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
