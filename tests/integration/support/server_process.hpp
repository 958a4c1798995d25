#pragma once
// The real progress-hub binary as a child process: started on port 0 with a fresh temp data dir,
// its bound port read from the `listening on` line.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace progress::test {

// A fresh folder under /tmp, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct exit_status {
  bool exited = false;   // normal exit (else killed by a signal or still running at the deadline)
  int code = -1;
  std::string output;    // captured stdout (for short-lived tools)
};

// Runs `binary args...` to completion, capturing stdout; fails (exited=false) after `guard`.
exit_status run_program(const std::string& binary, const std::vector<std::string>& args,
                        std::chrono::milliseconds guard = std::chrono::seconds(30));

class server_process {
 public:
  // Extra flags go after --listen/--data-dir/--log-level. `max_open_files` > 0 lowers the child's
  // RLIMIT_NOFILE to that many descriptors. `capture_stderr`: the log goes to a file (stderr_text())
  // instead of the test's own stderr.
  explicit server_process(std::vector<std::string> extra_args = {}, unsigned max_open_files = 0,
                          bool capture_stderr = false);
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& data_dir() const { return data_.path(); }
  // What the hub has logged so far (with capture_stderr).
  std::string stderr_text() const;
  // Sends SIGTERM and waits for the exit.
  exit_status terminate(std::chrono::milliseconds guard = std::chrono::seconds(20));

 private:
  temp_dir data_;
  temp_dir logs_;  // outside the data dir, which the hub owns
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  unsigned short port_ = 0;
};

// The open descriptors of process `pid` (listening socket, log, data dir, connections), from /proc.
std::size_t open_descriptors(pid_t pid);

// Waits for `pid` to end within `guard`; SIGKILLs it after.
exit_status wait_for_exit(pid_t pid, std::chrono::milliseconds guard);

// Reads one line of a starting hub's stdout (its `listening on` line) within `guard`; throws when
// the hub closes stdout first or the guard runs out.
std::string read_stdout_line(int fd, std::chrono::milliseconds guard);

}  // namespace progress::test
