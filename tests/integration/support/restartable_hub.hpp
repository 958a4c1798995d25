#pragma once
// The real progress-hub binary on a data dir that outlives it: started, SIGKILLed or SIGTERMed, and
// started again on the same folder and port, as an operator (or a crash) would. Its stderr goes to a
// log file so a refused start can be read back.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/server_process.hpp"

namespace progress::test {

class restartable_hub {
 public:
  // `workdir` holds data/ (the --data-dir) and hub.log; `extra_args` go to every start.
  restartable_hub(std::filesystem::path workdir, std::vector<std::string> extra_args = {});
  ~restartable_hub();
  restartable_hub(const restartable_hub&) = delete;
  restartable_hub& operator=(const restartable_hub&) = delete;

  // Starts on the previous port (port 0 the first time); throws when it does not listen.
  void start();
  // SIGKILL: no shutdown code runs, the store is not marked clean.
  void kill();
  // SIGTERM and wait: the exit status of a graceful shutdown.
  exit_status terminate();
  // Starts expecting a refusal: the exit status, with the log in `output`.
  exit_status start_refused();

  unsigned short port() const { return port_; }
  std::filesystem::path data_dir() const { return workdir_ / "data"; }
  std::string log() const;

 private:
  pid_t spawn(int stdout_fd);
  std::vector<std::string> args() const;

  std::filesystem::path workdir_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  unsigned short port_ = 0;
};

}  // namespace progress::test
