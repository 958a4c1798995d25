#include "support/restartable_hub.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace progress::test {
namespace {

constexpr std::chrono::seconds kStartGuard{60};

}  // namespace

restartable_hub::restartable_hub(std::filesystem::path workdir, std::vector<std::string> extra_args)
    : workdir_(std::move(workdir)), extra_args_(std::move(extra_args)) {
  std::filesystem::create_directories(data_dir());
}

restartable_hub::~restartable_hub() {
  if (pid_ > 0) kill();
}

std::vector<std::string> restartable_hub::args() const {
  std::vector<std::string> args = {"--listen", "127.0.0.1:" + std::to_string(port_), "--data-dir",
                                   data_dir().string(), "--log-level", "info"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  return args;
}

pid_t restartable_hub::spawn(int stdout_fd) {
  const std::string log_file = (workdir_ / "hub.log").string();
  const std::vector<std::string> arguments = args();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log_fd >= 0) ::dup2(log_fd, STDERR_FILENO);
    ::dup2(stdout_fd, STDOUT_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(PROGRESS_HUB_BINARY));
    for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(PROGRESS_HUB_BINARY, argv.data());
    std::_Exit(127);
  }
  return pid;
}

void restartable_hub::start() {
  if (pid_ > 0) throw std::logic_error("progress-hub is already running");
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_ = spawn(fds[1]);
  ::close(fds[1]);
  stdout_fd_ = fds[0];
  std::string line;
  try {
    line = read_stdout_line(stdout_fd_, kStartGuard);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + "; log:\n" + log());
  }
  const auto colon = line.rfind(':');
  if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos) {
    throw std::runtime_error("unexpected first line from progress-hub: " + line);
  }
  port_ = static_cast<unsigned short>(std::stoi(line.substr(colon + 1)));
}

void restartable_hub::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  ::close(stdout_fd_);
  stdout_fd_ = -1;
}

exit_status restartable_hub::terminate() {
  if (pid_ <= 0) return {};
  ::kill(pid_, SIGTERM);
  auto status = wait_for_exit(pid_, std::chrono::seconds(30));
  pid_ = -1;
  ::close(stdout_fd_);
  stdout_fd_ = -1;
  return status;
}

exit_status restartable_hub::start_refused() {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = spawn(fds[1]);
  ::close(fds[1]);
  auto status = wait_for_exit(pid, kStartGuard);
  ::close(fds[0]);
  status.output = log();
  return status;
}

std::string restartable_hub::log() const {
  std::ifstream file(workdir_ / "hub.log");
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace progress::test
