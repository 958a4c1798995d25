// progress-loadgen: drives one scenario against a server that speaks the progress-hub endpoints
// (`/ws/progress/{id}`, `/ws/publish`) and prints one line of numbers and one line of JSON.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "engine.hpp"

namespace {

using progress::bench::scenario;

std::optional<scenario> preset(std::string_view name) {
  scenario s;
  s.name = std::string(name);
  if (name == "fanout-max") {
    s.subscribers = 1000, s.processes = 100, s.duration_s = 10;
  } else if (name == "fanout-rate") {
    s.subscribers = 1000, s.processes = 100, s.duration_s = 10, s.publish_rate = 20'000, s.window = 4096;
  } else if (name == "broadcast") {
    s.subscribers = 10'000, s.processes = 1, s.duration_s = 10, s.publish_rate = 100, s.window = 1024;
  } else if (name == "idle") {
    s.subscribers = 10'000, s.processes = 100, s.publish = false, s.hold_s = 2;
  } else if (name == "churn") {
    s.processes = 100, s.finished_processes = true, s.publish = false, s.churn_concurrency = 50,
    s.duration_s = 10;
  } else if (name == "late-join-storm") {
    s.subscribers = 5000, s.processes = 100, s.finished_processes = true, s.publish = false,
    s.connect_batch = 5000;
  } else {
    return std::nullopt;
  }
  return s;
}

int usage() {
  std::fprintf(stderr,
               "usage: progress-loadgen --port N --scenario NAME [--host 127.0.0.1] [--server-pid PID]\n"
               "         [--publish-port N (publisher on another node)]\n"
               "         [--subscribers N] [--processes N] [--rate PER_S] [--window N] [--duration S]\n"
               "         [--concurrency N] [--hold S] [--close reset|handshake (churn)] [--io-uring on|off]\n"
               "scenarios: fanout-max fanout-rate broadcast idle churn late-join-storm\n");
  return 2;
}

void raise_fd_limit() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
}

}  // namespace

int main(int argc, char** argv) try {
  progress::bench::target tg;
  std::optional<scenario> sc;
  std::optional<std::string> scenario_name;
  std::string overrides[16][2];
  int n_overrides = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    if (arg == "--port") {
      tg.port = static_cast<std::uint16_t>(std::stoul(value));
    } else if (arg == "--publish-port") {
      tg.publish_port = static_cast<std::uint16_t>(std::stoul(value));
    } else if (arg == "--host") {
      tg.host = value;
    } else if (arg == "--server-pid") {
      tg.server_pid = std::stoi(value);
    } else if (arg == "--scenario") {
      scenario_name = value;
    } else if (arg == "--io-uring" && (value == "on" || value == "off")) {
      tg.io_uring = value == "on";
    } else if (n_overrides < 16) {
      overrides[n_overrides][0] = std::string(arg);
      overrides[n_overrides][1] = value;
      ++n_overrides;
    }
  }
  if (!scenario_name || tg.port == 0) return usage();
  sc = preset(*scenario_name);
  if (!sc) return usage();
  for (int i = 0; i < n_overrides; ++i) {
    const auto& key = overrides[i][0];
    const auto& value = overrides[i][1];
    if (key == "--subscribers") {
      sc->subscribers = static_cast<std::uint32_t>(std::stoul(value));
      if (sc->connect_batch > 1000) sc->connect_batch = sc->subscribers;  // late-join-storm: all at once
    } else if (key == "--processes") {
      sc->processes = static_cast<std::uint32_t>(std::stoul(value));
    } else if (key == "--rate") {
      sc->publish_rate = std::stod(value);
    } else if (key == "--window") {
      sc->window = static_cast<std::uint32_t>(std::stoul(value));
    } else if (key == "--duration") {
      sc->duration_s = std::stod(value);
    } else if (key == "--concurrency") {
      sc->churn_concurrency = static_cast<std::uint32_t>(std::stoul(value));
    } else if (key == "--hold") {
      sc->hold_s = std::stod(value);
    } else if (key == "--close" && (value == "reset" || value == "handshake")) {
      using progress::bench::close_mode;
      sc->churn_close = value == "reset" ? close_mode::reset : close_mode::handshake;
    } else {
      return usage();
    }
  }
  if (sc->processes == 0 || sc->window == 0) return usage();
  raise_fd_limit();

  const auto r = progress::bench::run(*sc, tg);
  const double secs = r.measured_s > 0 ? r.measured_s : 1;
  const double delivered_per_s = static_cast<double>(r.delivered) / secs;
  const double published_per_s = static_cast<double>(r.published) / secs;
  const double cycles_per_s = static_cast<double>(r.cycles) / secs;
  const auto p50 = r.latency_us.quantile(0.50), p99 = r.latency_us.quantile(0.99),
             p999 = r.latency_us.quantile(0.999);
  std::printf(
      "%s subscribers=%u processes=%u seconds=%.2f published/s=%.0f delivered/s=%.0f p50_us=%llu p99_us=%llu "
      "p999_us=%llu max_us=%llu duplicates=%llu undelivered=%llu errors=%llu closes=%llu cycles/s=%.0f "
      "setup_s=%.3f rss_per_conn=%.0f generator_cpu=%.2f%s%s\n",
      sc->name.c_str(), sc->subscribers, sc->processes, r.measured_s, published_per_s, delivered_per_s,
      static_cast<unsigned long long>(p50), static_cast<unsigned long long>(p99),
      static_cast<unsigned long long>(p999), static_cast<unsigned long long>(r.latency_us.max()),
      static_cast<unsigned long long>(r.duplicates), static_cast<unsigned long long>(r.undelivered),
      static_cast<unsigned long long>(r.error_frames), static_cast<unsigned long long>(r.unexpected_closes),
      cycles_per_s, r.setup_s, r.rss_per_conn_bytes, r.generator_cpu, r.error.empty() ? "" : " ERROR: ",
      r.error.c_str());
  std::string error_json;
  for (char ch : r.error) {
    if (ch == '"' || ch == '\\') error_json.push_back('\\');
    if (static_cast<unsigned char>(ch) >= 0x20) error_json.push_back(ch);
  }
  std::printf(
      "{\"scenario\":\"%s\",\"subscribers\":%u,\"processes\":%u,\"seconds\":%.3f,\"published_per_s\":%.1f,"
      "\"delivered_per_s\":%.1f,\"latency_us\":{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu,"
      "\"samples\":%llu},\"duplicates\":%llu,\"undelivered\":%llu,\"error_frames\":%llu,"
      "\"unexpected_closes\":%llu,\"cycles_per_s\":%.1f,\"setup_s\":%.4f,\"rss_per_conn_bytes\":%.0f,"
      "\"generator_cpu\":%.3f,\"error\":\"%s\"}\n",
      sc->name.c_str(), sc->subscribers, sc->processes, r.measured_s, published_per_s, delivered_per_s,
      static_cast<unsigned long long>(p50), static_cast<unsigned long long>(p99),
      static_cast<unsigned long long>(p999), static_cast<unsigned long long>(r.latency_us.max()),
      static_cast<unsigned long long>(r.latency_us.total()), static_cast<unsigned long long>(r.duplicates),
      static_cast<unsigned long long>(r.undelivered), static_cast<unsigned long long>(r.error_frames),
      static_cast<unsigned long long>(r.unexpected_closes), cycles_per_s, r.setup_s, r.rss_per_conn_bytes,
      r.generator_cpu, error_json.c_str());
  return r.error.empty() ? 0 : 1;
} catch (const std::logic_error&) {
  // std::stoul and friends: a flag value that is not a number
  return usage();
}
