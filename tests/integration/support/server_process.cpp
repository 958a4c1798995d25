#include "support/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace progress::test {
namespace {

pid_t spawn(const std::string& binary, const std::vector<std::string>& args, int stdout_fd, int stderr_fd,
            unsigned max_open_files = 0) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (max_open_files > 0) {
      const rlimit limit{max_open_files, max_open_files};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) std::_Exit(126);
    }
    ::dup2(stdout_fd, STDOUT_FILENO);
    if (stderr_fd >= 0) ::dup2(stderr_fd, STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    std::_Exit(127);
  }
  return pid;
}

}  // namespace

std::string read_stdout_line(int fd, std::chrono::milliseconds guard) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("no `listening on` line from progress-hub");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char c = 0;
    const auto n = ::read(fd, &c, 1);
    if (n <= 0) throw std::runtime_error("progress-hub closed stdout before listening (output: " + line + ")");
    if (c == '\n') return line;
    line += c;
  }
}

temp_dir::temp_dir() {
  std::string pattern = "/tmp/progress-it-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

exit_status wait_for_exit(pid_t pid, std::chrono::milliseconds guard) {
  exit_status out;
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      out.exited = WIFEXITED(status);
      out.code = out.exited ? WEXITSTATUS(status) : -WTERMSIG(status);
      return out;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

exit_status run_program(const std::string& binary, const std::vector<std::string>& args,
                        std::chrono::milliseconds guard) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = spawn(binary, args, fds[1], -1);
  ::close(fds[1]);
  // Drain stdout while waiting so a chatty child never blocks on a full pipe.
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      char buf[4096];
      const auto n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      output.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fds[0]);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  auto status = wait_for_exit(pid, std::max(left, std::chrono::milliseconds(100)));
  status.output = std::move(output);
  return status;
}

server_process::server_process(std::vector<std::string> extra_args, unsigned max_open_files,
                               bool capture_stderr) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--data-dir", data_.path().string(),
                                   "--log-level", "warn"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int stderr_fd = -1;
  if (capture_stderr) {
    stderr_fd = ::open((logs_.path() / "stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (stderr_fd < 0) throw std::runtime_error("cannot create the hub's log file");
  }
  pid_ = spawn(PROGRESS_HUB_BINARY, args, fds[1], stderr_fd, max_open_files);
  ::close(fds[1]);
  if (stderr_fd >= 0) ::close(stderr_fd);
  stdout_fd_ = fds[0];
  const std::string line = read_stdout_line(stdout_fd_, std::chrono::seconds(30));
  const auto colon = line.rfind(':');
  if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos) {
    throw std::runtime_error("unexpected first line from progress-hub: " + line);
  }
  port_ = static_cast<unsigned short>(std::stoi(line.substr(colon + 1)));
}

server_process::~server_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::size_t open_descriptors(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++n;
  }
  return n;
}

std::string server_process::stderr_text() const {
  std::ifstream file(logs_.path() / "stderr.log", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

exit_status server_process::terminate(std::chrono::milliseconds guard) {
  ::kill(pid_, SIGTERM);
  auto status = wait_for_exit(pid_, guard);
  pid_ = -1;
  return status;
}

}  // namespace progress::test
