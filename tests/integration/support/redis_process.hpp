#pragma once
// A real redis-server as a child process for the multi-node tests: a free port, a fresh folder,
// append-only file on (so a restart keeps the data), no RDB snapshots.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace progress::test {

// The redis-server binary on PATH or in /usr/bin; nullopt when Redis is not installed.
std::optional<std::string> find_redis_server();

class redis_process {
 public:
  // `password` set: the server requires it (--requirepass) from every client.
  redis_process(std::string binary, std::filesystem::path dir, std::string password = {});
  ~redis_process();
  redis_process(const redis_process&) = delete;
  redis_process& operator=(const redis_process&) = delete;

  unsigned short port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  // SIGTERM (Redis flushes the AOF and exits), then the same port and folder again.
  void restart();
  void stop();
  // SIGSTOP / SIGCONT: a Redis that keeps its connections open but answers nothing (a hang).
  void pause();
  void resume();

 private:
  void start();

  std::string binary_;
  std::filesystem::path dir_;
  std::string password_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace progress::test
