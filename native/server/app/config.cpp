#include "config/config.hpp"

#include <cctype>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string_view>

#include "access/access_policy.hpp"
#include "base/parse_int.hpp"
#include "http/request_parser.hpp"
#include "redis/redis_engine.hpp"
#include "jobs/upload_quota.hpp"

namespace progress::server {
namespace {

// More send threads than cores only adds switching; 64 is past any machine this is sized for.
constexpr std::size_t kMaxThreads = 64;

bool parse_listen(std::string_view text, server_config& cfg) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::uint16_t port = 0;
  if (!parse_int<std::uint16_t>(text.substr(colon + 1), 0, 65535, port)) return false;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  cfg.listen_host = std::string(host);
  cfg.listen_port = port;
  return true;
}

bool parse_bool(std::string_view text, bool& out) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") {
    out = true;
  } else if (text == "0" || text == "false" || text == "no" || text == "off") {
    out = false;
  } else {
    return false;
  }
  return true;
}

struct option {
  const char* flag;  // nullptr: environment only (secrets do not belong on a command line)
  const char* env;
  const char* help;
  // Applies a value; false when it does not parse.
  std::function<bool(std::string_view, server_config&)> apply;
};

template <class Int>
std::function<bool(std::string_view, server_config&)> int_setter(Int server_config::*member, Int min, Int max) {
  return [=](std::string_view v, server_config& c) { return parse_int<Int>(v, min, max, c.*member); };
}

template <class Int>
std::function<bool(std::string_view, server_config&)> hub_setter(Int HubConfig::*member, Int min, Int max) {
  return [=](std::string_view v, server_config& c) { return parse_int<Int>(v, min, max, c.hub.*member); };
}

using setter = std::function<bool(std::string_view, server_config&)>;

setter ms_setter(std::chrono::milliseconds server_config::*member, std::int64_t min = 1,
                 std::int64_t max = 24LL * 3600 * 1000) {
  return [=](std::string_view v, server_config& c) {
    std::int64_t ms = 0;
    if (!parse_int<std::int64_t>(v, min, max, ms)) return false;
    c.*member = std::chrono::milliseconds(ms);
    return true;
  };
}

const std::vector<option>& options() {
  constexpr std::int64_t day_ms = 24LL * 3600 * 1000;
  constexpr std::size_t max_size = std::size_t{1} << 40;
  static const std::vector<option> table = {
      {"--listen", "PROGRESS_LISTEN", "HOST:PORT to listen on (default 127.0.0.1:8000; port 0 picks one)",
       parse_listen},
      {"--web-root", "PROGRESS_WEB_ROOT", "folder served at / (demo page, web package files)",
       [](std::string_view v, server_config& c) {
         c.web_root = std::filesystem::path(std::string(v));
         return !v.empty();
       }},
      {"--data-dir", "PROGRESS_DATA_DIR",
       "folder for uploads and the process records (progress.db); without it records are memory-only "
       "and uploads go to a new temp folder",
       [](std::string_view v, server_config& c) {
         c.data_dir = std::filesystem::path(std::string(v));
         return !v.empty();
       }},
      {"--persist-interval-ms", "PROGRESS_PERSIST_INTERVAL_MS",
       "how often intermediate progress is written to the data dir; stage changes and terminal states "
       "are written before they are sent (default 1000; 0 writes every change at once)",
       ms_setter(&server_config::persist_interval, 0, 60'000)},
      {"--durability", "PROGRESS_DURABILITY",
       "normal (survives a crash of the hub, not a power cut) or full (fsync on every commit: survives "
       "both) (default normal)",
       [](std::string_view v, server_config& c) {
         if (v != "normal" && v != "full") return false;
         c.durability = v == "full" ? durability_level::full : durability_level::normal;
         return true;
       }},
      {"--heartbeat-ms", "PROGRESS_HEARTBEAT_MS", "server ping period (default 20000)",
       hub_setter<std::int64_t>(&HubConfig::heartbeat_ms, 100, day_ms)},
      {"--pending-timeout-ms", "PROGRESS_PENDING_TIMEOUT_MS",
       "how long a subscription to an unknown process waits (default 300000)",
       hub_setter<std::int64_t>(&HubConfig::pending_timeout_ms, 1, day_ms)},
      {"--retention-ms", "PROGRESS_RETENTION_MS", "how long finished processes are kept (default 3600000)",
       hub_setter<std::int64_t>(&HubConfig::retention_ms, 1, 30 * day_ms)},
      {"--history", "PROGRESS_HISTORY", "events kept per process for resume (default 256)",
       hub_setter<std::size_t>(&HubConfig::history, 1, 1'000'000)},
      {"--history-bytes", "PROGRESS_HISTORY_BYTES",
       "memory the resume history of one process may hold; older events are forgotten and a resume "
       "from before them gets a snapshot (default 262144)",
       hub_setter<std::size_t>(&HubConfig::history_bytes, 1024, max_size)},
      {"--history-budget-bytes", "PROGRESS_HISTORY_BUDGET_BYTES",
       "memory the resume histories of all processes may hold together; past it the oldest events of "
       "any process are forgotten first (default 268435456)",
       hub_setter<std::size_t>(&HubConfig::history_budget_bytes, 1024, max_size)},
      {"--idle-timeout-ms", "PROGRESS_IDLE_TIMEOUT_MS",
       "a process that is not finished, has no lease and gets no update this long ends failed with "
       "error code stalled; 0 never (default 86400000)",
       hub_setter<std::int64_t>(&HubConfig::idle_timeout_ms, 0, 365 * day_ms)},
      {"--max-queue-bytes", "PROGRESS_MAX_QUEUE_BYTES", "unsent bytes per connection (default 262144)",
       hub_setter<std::size_t>(&HubConfig::max_queue_bytes, 1024, max_size)},
      {"--max-frame-bytes", "PROGRESS_MAX_FRAME_BYTES", "largest inbound WebSocket frame (default 65536)",
       hub_setter<std::size_t>(&HubConfig::max_frame_bytes, 256, 64 * 1024 * 1024)},
      {"--max-upload-bytes", "PROGRESS_MAX_UPLOAD_BYTES", "largest upload body (default 33554432)",
       int_setter<std::size_t>(&server_config::max_upload_bytes, 1, max_size)},
      {"--redis", "PROGRESS_REDIS_URL",
       "redis://[[USER]:PASSWORD@]HOST:PORT/DB: keep records in Redis so several nodes share them "
       "(default: in this node); with a password each connection sends AUTH first. Prefer the "
       "environment variable: a command line is visible to every user of the machine",
       [](std::string_view v, server_config& c) {
         c.redis_url = std::string(v);
         return parse_redis_url(v).has_value();
       }},
      {"--redis-timeout-ms", "PROGRESS_REDIS_TIMEOUT_MS",
       "a Redis command unanswered this long counts the connection as lost: writes answer unavailable "
       "and the node reconnects; also the channel connection's heartbeat period (default 2000)",
       ms_setter(&server_config::redis_timeout, 1, 600'000)},
      {nullptr, "PROGRESS_API_KEY", "the producers' API key itself",
       [](std::string_view v, server_config& c) {
         c.api_key = std::string(v);
         return true;
       }},
      {"--api-key-file", "PROGRESS_API_KEY_FILE",
       "file holding the API key producers must send as Authorization: Bearer (/ws/publish also takes "
       "?api_key=); required when listening on a non-loopback address",
       [](std::string_view v, server_config& c) {
         c.api_key_file = std::filesystem::path(std::string(v));
         return read_secret_file(v, c.api_key);
       }},
      {nullptr, "PROGRESS_TOKEN_SECRET", "the HS256 secret of subscription tokens itself",
       [](std::string_view v, server_config& c) {
         c.token_secret = std::string(v);
         return true;
       }},
      {"--token-secret-file", "PROGRESS_TOKEN_SECRET_FILE",
       "file holding the HS256 secret; when set, every subscription needs a JWT {sub: process id, exp}",
       [](std::string_view v, server_config& c) {
         c.token_secret_file = std::filesystem::path(std::string(v));
         return read_secret_file(v, c.token_secret);
       }},
      {"--token-secret-previous-file", "PROGRESS_TOKEN_SECRET_PREVIOUS_FILE",
       "file holding the secret being rotated out: tokens it signed are accepted too; missing or empty: "
       "none. SIGHUP reads both files again (docs/deploy.md)",
       [](std::string_view v, server_config& c) {
         c.token_secret_previous_file = std::filesystem::path(std::string(v));
         return !v.empty() && read_optional_secret_file(v, c.token_secret_previous);
       }},
      {"--allowed-origins", "PROGRESS_ALLOWED_ORIGINS",
       "comma-separated scheme://host[:port] list; WebSocket/SSE requests from another Origin get 403, and "
       "the HTTP API, uploads and SSE answer CORS to listed origins only",
       [](std::string_view v, server_config& c) {
         auto list = parse_origin_list(v);
         if (list) c.allowed_origins = std::move(*list);
         return list.has_value();
       }},
      {"--trusted-proxies", "PROGRESS_TRUSTED_PROXIES",
       "comma-separated CIDRs (10.0.0.0/8, ::1) of reverse proxies: their X-Forwarded-For / Forwarded "
       "names the client, for the per-address limits and the logs (default none)",
       [](std::string_view v, server_config& c) {
         c.proxies_text = std::string(v);
         return true;
       }},
      {"--open-uploads", "PROGRESS_OPEN_UPLOADS",
       "true: POST /api/uploads needs no API key, so the demo page can upload (default false)",
       [](std::string_view v, server_config& c) { return parse_bool(v, c.open_uploads); }},
      {"--max-uploads-per-address", "PROGRESS_MAX_UPLOADS_PER_ADDRESS",
       "document jobs queued or running per client IP address, then 429 (default 4; 0 off; loopback "
       "exempt unless --limit-loopback)",
       int_setter<std::size_t>(&server_config::max_uploads_per_address, 0, 1'000'000)},
      {"--max-uploads", "PROGRESS_MAX_UPLOADS",
       "upload records the hub holds, running or kept for --retention-ms, then 503 (default: a tenth "
       "of --max-processes), so uploads never fill the process table producers need",
       int_setter<std::size_t>(&server_config::max_uploads, 1, max_size)},
      {"--max-frames-per-s", "PROGRESS_MAX_FRAMES_PER_S",
       "inbound frames per second per subscriber connection, then rate_limited (default 50; 0 off)",
       hub_setter<std::size_t>(&HubConfig::max_frames_per_s, 0, 1'000'000)},
      {"--frame-burst", "PROGRESS_FRAME_BURST", "frames a connection may send at once (default 200)",
       hub_setter<std::size_t>(&HubConfig::frame_burst, 1, 1'000'000)},
      {"--max-publish-frames-per-s", "PROGRESS_MAX_PUBLISH_FRAMES_PER_S",
       "inbound frames per second per /ws/publish connection (default 0: no limit)",
       hub_setter<std::size_t>(&HubConfig::max_publish_frames_per_s, 0, 10'000'000)},
      {"--threads", "PROGRESS_THREADS",
       "server threads: one runs the hub and HTTP, the others write to WebSocket subscribers "
       "(default 1)",
       int_setter<std::size_t>(&server_config::threads, 1, kMaxThreads)},
      {"--io-uring", "PROGRESS_IO_URING",
       "on: WebSocket writes of many subscribers go to the kernel in one io_uring call (one send call "
       "each where the kernel refuses io_uring); off: one send call each (default on)",
       [](std::string_view v, server_config& c) {
         if (v != "on" && v != "off") return false;
         c.io_uring = v == "on";
         return true;
       }},
      {"--max-connections-per-address", "PROGRESS_MAX_CONNECTIONS_PER_ADDRESS",
       "open connections per client IP address, then 503 (default 256; 0 off; loopback exempt)",
       int_setter<std::size_t>(&server_config::max_connections_per_address, 0, 10'000'000)},
      {"--limit-loopback", "PROGRESS_LIMIT_LOOPBACK",
       "true: loopback clients count against --max-connections-per-address too (default false)",
       [](std::string_view v, server_config& c) { return parse_bool(v, c.limit_loopback); }},
      {"--max-processes", "PROGRESS_MAX_PROCESSES",
       "process records in memory, then unavailable (default 100000)",
       hub_setter<std::size_t>(&HubConfig::max_processes, 1, max_size)},
      {"--max-subscriptions", "PROGRESS_MAX_SUBSCRIPTIONS",
       "subscriptions in total, then unavailable (default 1000000)",
       hub_setter<std::size_t>(&HubConfig::max_subscriptions, 1, max_size)},
      {"--max-subscriptions-per-connection", "PROGRESS_MAX_SUBSCRIPTIONS_PER_CONNECTION",
       "subscriptions of one connection, then rate_limited (default 1000)",
       hub_setter<std::size_t>(&HubConfig::max_subscriptions_per_connection, 1, max_size)},
      {"--max-body-bytes", "PROGRESS_MAX_BODY_BYTES",
       "largest request body but uploads, then 413 (default 262144)",
       int_setter<std::size_t>(&server_config::max_body_bytes, 1, max_size)},
      {"--max-header-bytes", "PROGRESS_MAX_HEADER_BYTES",
       "largest request header plus chunked trailer, then 431 (414 for the request line; default 16384, "
       "at most 61440)",
       int_setter<std::size_t>(&server_config::max_header_bytes, 512, kMaxHeaderBytesLimit)},
      {"--header-timeout-ms", "PROGRESS_HEADER_TIMEOUT_MS",
       "time to send a request header (also idle keep-alive), then the connection is closed (default 30000)",
       ms_setter(&server_config::header_timeout)},
      {"--body-timeout-ms", "PROGRESS_BODY_TIMEOUT_MS",
       "time to send a request body, then the connection is closed (default 120000)",
       ms_setter(&server_config::body_timeout)},
      {"--tls-cert", "PROGRESS_TLS_CERT",
       "PEM certificate chain; with --tls-key the server speaks TLS 1.2+ only (https://, wss://)",
       [](std::string_view v, server_config& c) {
         c.tls_cert = std::filesystem::path(std::string(v));
         return !v.empty();
       }},
      {"--tls-key", "PROGRESS_TLS_KEY", "PEM private key of --tls-cert (both or neither)",
       [](std::string_view v, server_config& c) {
         c.tls_key = std::filesystem::path(std::string(v));
         return !v.empty();
       }},
      {"--log-level", "PROGRESS_LOG_LEVEL", "debug, info, warn, error or off (default info)",
       [](std::string_view v, server_config& c) {
         const auto level = log_level_from_string(v);
         if (level) c.level = *level;
         return level.has_value();
       }},
  };
  return table;
}

// A refused value as an error message may quote it, unless it may hold a password.
std::string shown(const option& opt, std::string_view value) {
  if (std::string_view(opt.env) == "PROGRESS_REDIS_URL" && value.find('@') != std::string_view::npos) {
    return "(not shown: it may hold a password) expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]";
  }
  return std::string(value);
}

}  // namespace

namespace {

// The file's content without trailing whitespace; nullopt when it cannot be opened.
std::optional<std::string> read_trimmed(const std::filesystem::path& path) {
  std::ifstream file{path, std::ios::binary};
  if (!file) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

}  // namespace

bool read_secret_file(std::string_view path, std::string& out) {
  auto text = read_trimmed(std::filesystem::path(std::string(path)));
  if (!text || text->empty()) return false;
  out = std::move(*text);
  return true;
}

bool read_optional_secret_file(std::string_view path, std::string& out) {
  const std::filesystem::path file{std::string(path)};
  std::error_code ec;
  if (!std::filesystem::exists(file, ec) && !ec) {
    out.clear();
    return true;
  }
  auto text = read_trimmed(file);
  if (!text) return false;
  out = std::move(*text);
  return true;
}

std::string usage_text() {
  std::string text =
      "usage: progress-hub [options]\n"
      "Serves live job progress over WebSocket, SSE and HTTP (protocol v1).\n\noptions (env fallback):\n";
  for (const auto& opt : options()) {
    const std::string name = opt.flag ? std::string(opt.flag) + " VALUE  (" + opt.env + ")"
                                      : std::string(opt.env) + "  (environment only)";
    text += "  " + name + "\n      " + opt.help + "\n";
  }
  text += "  --version\n      the version and the memory allocator this build uses\n";
  text += "  --help\n      this text\n";
  return text;
}

parse_result parse_config(const std::vector<std::string>& args,
                          const std::function<std::optional<std::string>(const char*)>& env) {
  parse_result out;
  server_config cfg;
  for (const auto& opt : options()) {
    if (auto value = env(opt.env); value && !value->empty()) {
      if (!opt.apply(*value, cfg)) {
        out.error = std::string("invalid value for ") + opt.env + ": " + shown(opt, *value);
        return out;
      }
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.show_help = true;
      return out;
    }
    if (arg == "--version") {
      out.show_version = true;
      return out;
    }
    std::string_view value;
    bool has_inline_value = false;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    const option* match = nullptr;
    for (const auto& opt : options()) {
      if (opt.flag != nullptr && arg == opt.flag) match = &opt;
    }
    if (match == nullptr) {
      out.error = "unknown option: " + std::string(arg);
      return out;
    }
    if (!has_inline_value) {
      if (i + 1 >= args.size()) {
        out.error = "missing value for " + std::string(arg);
        return out;
      }
      value = args[++i];
    }
    if (!match->apply(value, cfg)) {
      out.error = "invalid value for " + std::string(arg) + ": " + shown(*match, value);
      return out;
    }
  }
  if (!cfg.proxies_text.empty()) {
    std::string why;
    auto networks = parse_cidr_list(cfg.proxies_text, why);
    if (!networks) {
      out.error = "invalid --trusted-proxies (PROGRESS_TRUSTED_PROXIES): " + why;
      return out;
    }
    cfg.proxies = trusted_proxies(std::move(*networks));
  }
  if (cfg.max_uploads == 0) cfg.max_uploads = default_max_uploads(cfg.hub.max_processes);
  if (!cfg.token_secret_previous_file.empty() && cfg.token_secret_file.empty()) {
    out.error = "--token-secret-previous-file (PROGRESS_TOKEN_SECRET_PREVIOUS_FILE) needs --token-secret-file";
    return out;
  }
  if (cfg.tls_cert.empty() != cfg.tls_key.empty()) {
    out.error =
        "--tls-cert and --tls-key (PROGRESS_TLS_CERT, PROGRESS_TLS_KEY) go together: give both or neither";
    return out;
  }
  out.config = std::move(cfg);
  return out;
}

}  // namespace progress::server
