#pragma once
// How many uploads the hub takes at once, so that uploads (which need no key with --open-uploads)
// can never fill the process table that producers need:
// - per client address: document jobs queued or running (--max-uploads-per-address);
// - in total: upload records the hub still holds, running or finished and kept for retention
//   (--max-uploads, a tenth of --max-processes by default). Counting only running jobs would not
//   do: a small upload finishes in milliseconds and its record stays for the retention period.
// A ticket stands for one admitted upload; dropping it (on any thread) ends the job's share.
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

namespace progress::server {

// A refused upload: which limit, so the answer can name it.
struct quota_refusal {
  enum class limit { per_address, total };
  limit which;
  std::size_t max;
  std::string message;
};

// How often, at most, a full quota asks the hub which finished upload records it has dropped: under a
// flood every refused request would otherwise walk the whole list.
inline constexpr std::chrono::milliseconds kQuotaSweepInterval{1000};

class upload_quota {
  struct state;

 public:
  class ticket {
   public:
    ticket() = default;
    ticket(ticket&&) noexcept = default;
    ticket& operator=(ticket&&) noexcept;
    ticket(const ticket&) = delete;
    ticket& operator=(const ticket&) = delete;
    ~ticket();
    // The record this upload created: it counts against the total until the hub drops it.
    void record(std::string process_id);
    // Ends the job's share now (what the destructor does).
    void release();

   private:
    friend class upload_quota;
    ticket(std::shared_ptr<state> owner, std::string address)
        : owner_(std::move(owner)), address_(std::move(address)) {}
    std::shared_ptr<state> owner_;  // null: released (or moved from)
    std::string address_;           // empty: exempt from the per-address limit (loopback)
    std::string process_id_;
  };

  // `still_held(id)`: whether the hub still holds that record (called only from admit(), on the
  // caller's thread). `per_address` 0: no per-address limit; loopback addresses are exempt from it
  // unless `limit_loopback` (behind a reverse proxy every client has the proxy's address).
  upload_quota(std::size_t per_address, std::size_t total, bool limit_loopback,
               std::function<bool(std::string_view)> still_held);

  // One upload from `address` (an IP address in text form; empty: unknown, only the total applies) at
  // `now` (a monotonic clock).
  std::variant<ticket, quota_refusal> admit(std::string_view address, std::chrono::steady_clock::time_point now);

  std::size_t running_from(std::string_view address) const;
  std::size_t held() const;  // running jobs + finished upload records not yet seen dropped

 private:
  struct state {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::size_t> running_per_address;
    std::size_t running = 0;
    std::deque<std::string> finished;  // records of ended jobs, oldest first
  };
  void sweep();

  std::size_t per_address_;
  std::size_t total_;
  bool limit_loopback_;
  std::function<bool(std::string_view)> still_held_;
  std::optional<std::chrono::steady_clock::time_point> last_sweep_;
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

// The default total: a tenth of the process table, at least one.
std::size_t default_max_uploads(std::size_t max_processes);

}  // namespace progress::server
