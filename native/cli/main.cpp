// progress-watch URL PROCESS_ID [--json] [--token T]: follows one process until it ends. The
// token (also PROGRESS_TOKEN) is a secret: it is never printed, not even in a usage error.
// Exit status: 0 completed, 1 failed or cancelled, 2 usage/URL errors or a refused watch
// (invalid id, unauthorized, not_found), 130 interrupted.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "progress/client_session.hpp"
#include "progress/server_url.hpp"
#include "progress_display.hpp"
#include "session_driver.hpp"

namespace {

constexpr int kExitCompleted = 0;
constexpr int kExitJobFailed = 1;
constexpr int kExitError = 2;
constexpr int kExitInterrupted = 130;
// After the session is finished, the closing handshake gets this long before we leave anyway.
constexpr std::chrono::seconds kCloseGrace{3};

constexpr const char* kUsage =
    "usage: progress-watch URL PROCESS_ID [--json] [--token T]\n"
    "  URL         server base, e.g. ws://127.0.0.1:8000 (http:// works too)\n"
    "  PROCESS_ID  the process to follow\n"
    "  --json      print every view change as one JSON object per line\n"
    "  --token T   subscription token for a hub with a token secret (default: $PROGRESS_TOKEN)\n"
    "exit status: 0 completed, 1 failed/cancelled, 2 error (bad URL, invalid id, unauthorized, not found)\n";

bool is_finished(progress::SessionState s) {
  return s == progress::SessionState::done || s == progress::SessionState::failed;
}

}  // namespace

int main(int argc, char** argv) {
  namespace pc = progress::cli;
  std::vector<std::string> positional;
  bool json = false;
  const char* env_token = std::getenv("PROGRESS_TOKEN");
  std::string token = env_token != nullptr ? env_token : "";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--token") {
      if (i + 1 == argc) {
        std::fprintf(stderr, "progress-watch: --token needs a value\n%s", kUsage);
        return kExitError;
      }
      token = argv[++i];
    } else if (arg.rfind("--token=", 0) == 0) {
      token = arg.substr(8);
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return kExitCompleted;
    } else if (arg.size() > 1 && arg[0] == '-' && arg[1] == '-') {
      std::fprintf(stderr, "progress-watch: unknown option %s\n%s", arg.c_str(), kUsage);
      return kExitError;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) {
    std::fputs(kUsage, stderr);
    return kExitError;
  }
  // The core's reading of the URL, the same as the browser package's.
  const auto parsed = progress::parse_server_url(positional[0]);
  if (!parsed.url || parsed.url->tls) {
    const std::string why =
        parsed.url ? "TLS (wss://, https://) is not supported by progress-watch; use ws:// or http://" : parsed.error;
    std::fprintf(stderr, "progress-watch: bad URL %s: %s\n", positional[0].c_str(), why.c_str());
    return kExitError;
  }
  const std::string& process_id = positional[1];

  progress::ClientConfig config;
  config.url = parsed.url->base();
  config.seed = static_cast<std::uint64_t>(pc::wall_now()) ^ static_cast<std::uint64_t>(getpid());
  config.tokens = !token.empty();
  progress::ClientSession session(config);

  const auto mode = json ? pc::display_mode::json : isatty(STDOUT_FILENO) ? pc::display_mode::bar : pc::display_mode::lines;
  pc::progress_display display(mode, stdout, stderr);

  boost::asio::io_context ioc{1};
  boost::asio::steady_timer close_grace(ioc);
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  bool interrupted = false;
  bool finishing = false;
  const auto on_event = [&](const progress::ClientEvent& event) {
    display.on_event(event);
    const auto* changed = std::get_if<progress::StateChanged>(&event);
    if (changed == nullptr || !is_finished(changed->state) || finishing) return;
    // The session closes its socket itself; leave once that is done (or the grace ran out).
    finishing = true;
    signals.cancel();
    close_grace.expires_after(kCloseGrace);
    close_grace.async_wait([&](boost::system::error_code ec) {
      if (!ec) ioc.stop();
    });
  };
  pc::session_driver driver(ioc, session, on_event, [&] {
    if (finishing) ioc.stop();
  });
  driver.set_token(std::move(token));

  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    interrupted = true;
    driver.feed([](progress::ClientSession& s, progress::Now now) { s.stop(now); });
    ioc.stop();
  });

  driver.feed([&](progress::ClientSession& s, progress::Now now) { s.subscribe(process_id, now); });
  if (finishing && !driver.has_socket()) ioc.stop();  // refused locally (invalid id): no socket to close
  ioc.run();
  display.finish();

  if (interrupted) return kExitInterrupted;
  const progress::ProcessView* view = session.view(process_id);
  if (view == nullptr) return kExitError;
  if (view->failure) return kExitError;
  if (view->state == progress::State::completed) return kExitCompleted;
  if (view->state == progress::State::failed || view->state == progress::State::cancelled) return kExitJobFailed;
  return kExitError;
}
