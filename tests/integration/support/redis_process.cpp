#include "support/redis_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/server_process.hpp"

namespace progress::test {
namespace {

unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::optional<std::string> find_redis_server() {
  std::vector<std::string> dirs{"/usr/bin", "/usr/local/bin"};
  if (const char* path = std::getenv("PATH")) {
    std::stringstream in(path);
    for (std::string dir; std::getline(in, dir, ':');) dirs.push_back(dir);
  }
  for (const auto& dir : dirs) {
    const std::string candidate = dir + "/redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

redis_process::redis_process(std::string binary, std::filesystem::path dir, std::string password)
    : binary_(std::move(binary)), dir_(std::move(dir)), password_(std::move(password)), port_(free_port()) {
  start();
}

redis_process::~redis_process() { stop(); }

void redis_process::start() {
  std::vector<std::string> args{binary_,         "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                "--dir",         dir_.string(), "--appendonly", "yes", "--save", "",
                                "--daemonize",   "no", "--loglevel", "warning"};
  if (!password_.empty()) args.insert(args.end(), {"--requirepass", password_});
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary_.c_str(), argv.data());
    std::_Exit(127);
  }
  // A hang guard for the start, not a speed assertion.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!accepts(port_)) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("redis-server did not start");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void redis_process::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);  // a paused server would leave SIGTERM pending
  ::kill(pid_, SIGTERM);
  wait_for_exit(pid_, std::chrono::seconds(20));
  pid_ = -1;
}

void redis_process::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void redis_process::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void redis_process::restart() {
  stop();
  start();
}

}  // namespace progress::test
