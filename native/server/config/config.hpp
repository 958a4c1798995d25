#pragma once
// Server options: command-line flags with environment fallbacks (flag > env > default).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http/client_address.hpp"
#include "base/log.hpp"
#include "progress/hub.hpp"
#include "store/sqlite_store.hpp"

namespace progress::server {

struct server_config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8000;
  std::filesystem::path web_root;  // empty: no static files (404)
  // Given: uploads and the process records (SQLite) live there. Empty: uploads go to a fresh temp
  // dir and records are kept in memory only.
  std::filesystem::path data_dir;
  std::chrono::milliseconds persist_interval{1000};  // write-behind of intermediate progress; 0: none
  durability_level durability = durability_level::normal;
  std::size_t max_upload_bytes = 32 * 1024 * 1024;
  std::size_t max_body_bytes = 256 * 1024;  // every request body but uploads
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds body_timeout{120'000};
  std::chrono::milliseconds shutdown_grace{5'000};  // in-flight work gets this long after SIGTERM
  std::size_t max_queued_uploads = 64;              // document jobs waiting -> 503 unavailable
  std::size_t max_uploads_per_address = 4;          // queued or running jobs per address -> 429; 0: off
  std::size_t max_uploads = 0;                      // upload records held -> 503; 0: a tenth of max_processes
  // Access (docs/security.md); an empty secret turns its check off.
  std::string api_key;                              // producers' bearer key
  std::string token_secret;                         // HS256 secret of subscription tokens
  std::string token_secret_previous;                // also accepted while a rotation is under way
  // Where the secrets above were read from; SIGHUP reads them again (app/reload.hpp). Empty: given
  // in the environment, kept as they are.
  std::filesystem::path api_key_file;
  std::filesystem::path token_secret_file;
  std::filesystem::path token_secret_previous_file;
  std::vector<std::string> allowed_origins;         // scheme://host[:port]; empty: any Origin
  bool open_uploads = false;                        // POST /api/uploads needs no key (the demo page)
  std::size_t max_connections_per_address = 256;    // 0: no limit
  bool limit_loopback = false;                      // loopback clients count too (default: exempt)
  // Peers whose X-Forwarded-For / Forwarded name the client (client_address.hpp); empty: none.
  trusted_proxies proxies;
  std::string proxies_text;  // the flag as given, parsed into `proxies` once all flags are read
  log_level level = log_level::info;
  // Threads of the server: the hub and everything but WebSocket writes on one, the rest send
  // (send_lane.hpp). 1: all on one thread.
  std::size_t threads = 1;
  // WebSocket writes go through io_uring (send_ring.hpp), one system call for many sockets.
  bool io_uring = true;
  std::string redis_url;  // empty: the embedded engine; else redis://host:port/db (several nodes)
  std::chrono::milliseconds redis_timeout{2000};  // a Redis reply later than this: connection lost
  // Both set: the listener speaks TLS only (https://, wss://); both empty: plain TCP.
  std::filesystem::path tls_cert;  // PEM certificate chain
  std::filesystem::path tls_key;   // PEM private key
  HubConfig hub;
};

struct parse_result {
  std::optional<server_config> config;  // set when the server should run
  bool show_help = false;
  bool show_version = false;
  std::string error;  // set when the arguments are wrong
};

// The file's content without trailing whitespace; false when it cannot be read or is empty.
bool read_secret_file(std::string_view path, std::string& out);

// --token-secret-previous-file: a missing or empty file means no previous secret (the state between
// rotations); false only when the file exists and cannot be read.
bool read_optional_secret_file(std::string_view path, std::string& out);

// `env` looks a variable up (std::getenv in main; a table in tests).
parse_result parse_config(const std::vector<std::string>& args,
                          const std::function<std::optional<std::string>(const char*)>& env);

std::string usage_text();

}  // namespace progress::server
