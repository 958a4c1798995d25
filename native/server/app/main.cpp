// progress-hub: parse options, bind, run the io_context (the hub, HTTP, reads) on this thread until
// SIGINT/SIGTERM; with --threads N, N-1 send lanes write to WebSocket subscribers beside it.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "app/allocator.hpp"
#include "app/reload.hpp"
#include "app/service_notify.hpp"
#include "access/auth_token.hpp"
#include "config/config.hpp"
#include "conn/http_session.hpp"
#include "hub/hub_service.hpp"
#include "conn/listener.hpp"
#include "base/log.hpp"
#include "hub/metrics.hpp"
#include "redis/redis_engine.hpp"
#include "base/net.hpp"
#include "send/ring_queue.hpp"
#include "send/send_lane.hpp"
#include "send/send_ring.hpp"
#include "routes/server_context.hpp"
#include "store/store_writer.hpp"
#include "access/tls_context.hpp"
#include "jobs/upload_job.hpp"
#include "jobs/upload_quota.hpp"

namespace ps = progress::server;

namespace {

// EX_SOFTWARE (sysexits.h): the hub found one of its own invariants broken and stopped on purpose.
constexpr int kExitInvariantBroken = 70;

// Runs the event loop until it has nothing left to do. A std::exception out of a handler ends only
// the connection that handler served (the handler, holding the session's last reference, is gone
// with it) and the loop goes on; anything else is a broken invariant: logged, then a clear exit.
int run_event_loop(ps::net::io_context& ioc, const ps::logger& log, ps::http_metrics& metrics) {
  while (true) {
    try {
      ioc.run();
      return 0;
    } catch (const std::exception& e) {
      ++metrics.handler_failures;
      log.error("handler_exception", {{"error", e.what()}});
    } catch (...) {
      log.error("invariant_broken", {{"detail", "a handler threw something that is not a std::exception"}});
      return kExitInvariantBroken;
    }
  }
}

// The data dir holds uploads and every job's result: owner-only (0700), whatever the umask and
// whatever mode an older hub left it with. Uploads left by a hub that stopped before their jobs
// ran are deleted: their jobs will never run.
std::optional<std::filesystem::path> prepare_data_dir(const std::filesystem::path& configured, const ps::logger& log,
                                                      std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = configured;
  if (configured.empty()) {
    std::string pattern = (fs::temp_directory_path(ec) / "progress-hub-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {  // 0700 already
      error = "cannot create a temporary data dir";
      return std::nullopt;
    }
    return fs::path(pattern);
  }
  fs::create_directories(dir, ec);
  if (!ec) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) {
    error = "cannot create --data-dir " + dir.string() + " as a private (0700) folder: " + ec.message();
    return std::nullopt;
  }
  std::size_t removed = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ps::kUploadFileExtension && entry.is_regular_file(ec)) {
      removed += fs::remove(entry.path(), ec) ? 1 : 0;
    }
  }
  if (removed > 0) log.info("stale_uploads_removed", {{"count", std::to_string(removed)}});
  return dir;
}

// Removes a hub's own temporary data dir when main returns, whichever way it returns.
class temporary_dir_guard {
 public:
  explicit temporary_dir_guard(std::filesystem::path dir) : dir_(std::move(dir)) {}
  ~temporary_dir_guard() {
    if (dir_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  temporary_dir_guard(const temporary_dir_guard&) = delete;
  temporary_dir_guard& operator=(const temporary_dir_guard&) = delete;

 private:
  std::filesystem::path dir_;
};

std::optional<ps::tcp::endpoint> resolve_listen(ps::net::io_context& ioc, const ps::server_config& cfg,
                                                std::string& error) {
  ps::error_code ec;
  ps::tcp::resolver resolver(ioc);
  const auto results = resolver.resolve(cfg.listen_host, std::to_string(cfg.listen_port),
                                        ps::tcp::resolver::passive | ps::tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    error = "cannot resolve --listen host " + cfg.listen_host + ": " + ec.message();
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

}  // namespace

int main(int argc, char** argv) {
  // A thread beside the loop (upload worker, send lanes) that throws must not abort with a core
  // dump and no word: say so, and exit with the same clear code.
  std::set_terminate([] {
    std::fputs("progress-hub: error event=terminate detail=\"an exception escaped a worker thread\"\n", stderr);
    std::_Exit(kExitInvariantBroken);
  });
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto parsed = ps::parse_config(args, [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    return value ? std::optional<std::string>(value) : std::nullopt;
  });
  if (parsed.show_help) {
    std::cout << ps::usage_text();
    return 0;
  }
  if (parsed.show_version) {
    std::cout << "progress-hub " << PROGRESS_VERSION << "\nallocator: " << ps::allocator_description() << "\n";
    return 0;
  }
  if (!parsed.config) {
    std::cerr << "progress-hub: " << parsed.error << "\n" << ps::usage_text();
    return 2;
  }
  ps::server_config configured = *parsed.config;
  if (!configured.token_secret.empty()) {
    // Reads the secrets at each check: SIGHUP may have replaced them (on this same thread).
    configured.hub.subscription_check = [&configured](std::string_view process_id, std::string_view token,
                                                      progress::Millis now) {
      return ps::token_verifier(configured.token_secret, configured.token_secret_previous)
          .refusal(process_id, token, now);
    };
  }
  const ps::server_config& cfg = configured;
  const ps::logger log(cfg.level);

  std::string error;
  // Before anything is created: a bad certificate is a configuration error like a bad flag.
  std::unique_ptr<ps::ssl::context> tls;
  if (!cfg.tls_cert.empty()) {
    tls = ps::make_tls_context(cfg.tls_cert, cfg.tls_key, error);
    if (!tls) {
      std::cerr << "progress-hub: " << error << "\n";
      return 2;
    }
  }
  // Nothing this process creates is for other users (uploads, progress.db and its -wal).
  ::umask(077);
  const auto data_dir = prepare_data_dir(cfg.data_dir, log, error);
  if (!data_dir) {
    std::cerr << "progress-hub: " << error << "\n";
    return 2;
  }
  // Destroyed after everything declared below, the upload worker included.
  const temporary_dir_guard temporary_dir(cfg.data_dir.empty() ? *data_dir : std::filesystem::path());

  ps::net::io_context ioc{1};
  // One thread: subscribers' writes go out in rounds through the hub thread's own ring. With lanes
  // each lane opens its own; this one then only tells the log whether the kernel allows it, and is
  // closed before any lane starts. A lane's ring may be mapped where it was, and ThreadSanitizer,
  // which does not see liburing map rings (it makes the system calls itself), needs the thread's
  // start between the two to know the old accesses are over.
  std::string ring_refused = "off";
  std::unique_ptr<ps::send_ring> ring = cfg.io_uring ? ps::send_ring::open(ring_refused) : nullptr;
  const std::string send_path = ring ? "io_uring" : "send calls; io_uring " + ring_refused;
  std::unique_ptr<ps::ring_queue> ring_sends;
  if (ring && cfg.threads == 1) ring_sends = std::make_unique<ps::ring_queue>(ioc, std::move(ring));
  ring.reset();
  // Declared after the io_context: a lane holds work on it until its last answer ran.
  ps::send_lanes lanes(ioc, cfg.threads - 1, cfg.io_uring);
  const auto endpoint = resolve_listen(ioc, cfg, error);
  if (!endpoint) {
    std::cerr << "progress-hub: " << error << "\n";
    return 2;
  }

  // Anyone who can reach a public address could publish into every process without the key.
  if (!endpoint->address().is_loopback() && cfg.api_key.empty()) {
    std::cerr << "progress-hub: refusing to listen on " << endpoint->address().to_string()
              << " without an API key: set PROGRESS_API_KEY or --api-key-file"
              << " (docs/security.md)\n";
    return 2;
  }

  std::random_device entropy;
  const std::uint64_t seed = (std::uint64_t{entropy()} << 32) ^ entropy();
  // With --data-dir the records live in <data-dir>/progress.db and survive a restart; with --redis
  // they live in Redis and the folder holds uploads only.
  std::unique_ptr<ps::store_writer> store;
  if (!cfg.redis_url.empty()) {
    log.info("redis_engine", {{"detail", "process records live in Redis; --data-dir holds uploads only"}});
  } else if (!cfg.data_dir.empty()) {
    store = ps::open_store_writer(ioc, *data_dir, cfg.durability, cfg.persist_interval, log, error);
    if (!store) {
      std::cerr << "progress-hub: " << error << "\n";
      return 2;
    }
  } else {
    log.info("memory_only", {{"detail", "no --data-dir: process records are lost when the hub stops"}});
  }
  progress::HubConfig hub_config = cfg.hub;
  hub_config.record_changes = store != nullptr;
  hub_config.records_are_external = !cfg.redis_url.empty();
  ps::hub_service hub(ioc, std::move(hub_config), seed, log, std::move(store));
  ps::embedded_engine embedded(hub);
  std::unique_ptr<ps::redis_engine> redis;
  if (!cfg.redis_url.empty()) {
    // Epochs and generated ids must differ between nodes: each draws its own seed.
    const std::uint64_t engine_seed = (std::uint64_t{entropy()} << 32) ^ entropy();
    redis = std::make_unique<ps::redis_engine>(ioc, hub, *ps::parse_redis_url(cfg.redis_url), engine_seed, log,
                                               cfg.redis_timeout);
    redis->start();
  }
  ps::engine& records = redis ? static_cast<ps::engine&>(*redis) : embedded;
  ps::http_metrics metrics;
  metrics.started_at = ps::clock_now().mono;
  ps::upload_worker uploads(ioc, hub, metrics, log, cfg.max_queued_uploads);
  ps::upload_quota upload_limits(cfg.max_uploads_per_address, cfg.max_uploads, cfg.limit_loopback,
                                 [&hub](std::string_view id) { return hub.snapshot(id).has_value(); });
  ps::server_context ctx{cfg, hub, records, metrics, uploads, log, *data_dir};
  ctx.upload_limits = &upload_limits;
  ps::address_limiter connections(cfg.max_connections_per_address, cfg.limit_loopback);
  ctx.connections = &connections;
  ctx.tls = tls.get();
  if (cfg.threads > 1) ctx.lanes = &lanes;
  ctx.ring = ring_sends.get();
  if (ring_sends) hub.set_after_kick_pass([&ring_sends] { ring_sends->send_now(); });
  ps::http_session_registry sessions;

  auto server = std::make_shared<ps::listener>(ioc, ctx, sessions);
  if (const auto ec = server->open(*endpoint)) {
    std::cerr << "progress-hub: cannot listen on " << cfg.listen_host << ":" << cfg.listen_port << ": "
              << ec.message() << "\n";
    return 1;
  }
  // First signal: stop accepting, close every stream with 1001, let in-flight responses finish,
  // and give up after the grace period. A second signal stops at once.
  ps::net::signal_set signals(ioc, SIGINT, SIGTERM);
  ps::net::signal_set reload_signal(ioc, SIGHUP);
  ps::net::steady_timer grace(ioc);
  std::function<void(ps::error_code, int)> on_signal = [&](ps::error_code ec, int signal_number) {
    if (ec) return;
    if (hub.stopping()) {
      ioc.stop();
      return;
    }
    log.info("signal", {{"signal", std::to_string(signal_number)}});
    ps::notify_stopping();
    server->stop();
    uploads.stop();
    grace.expires_after(cfg.shutdown_grace);
    grace.async_wait([&](ps::error_code timer_ec) {
      if (!timer_ec) {
        log.warn("shutdown_grace_expired");
        ioc.stop();
      }
    });
    signals.async_wait(on_signal);
    hub.shutdown([&] {
      // Every stream is gone: nothing but in-flight HTTP responses may keep run() going now.
      signals.cancel();
      reload_signal.cancel();
      grace.cancel();
      // Posted: this may run inside one of the engine's own Redis callbacks.
      if (redis) ps::net::post(ioc, [&redis] { redis->stop(); });
    });
    sessions.close_idle();
  };
  signals.async_wait(on_signal);
  // SIGHUP: the secrets and the certificate again from their files (app/reload.hpp).
  std::function<void(ps::error_code, int)> on_reload = [&](ps::error_code ec, int) {
    if (ec || hub.stopping()) return;
    ps::notify_reloading();
    std::string why;
    auto fresh = ps::read_reloadable(configured, why);
    if (!fresh) {
      log.error("reload_failed", {{"detail", why + "; the running values are kept"}});
    } else {
      const std::string changed = ps::changed_names(configured, *fresh);
      configured.api_key = std::move(fresh->api_key);
      configured.token_secret = std::move(fresh->token_secret);
      configured.token_secret_previous = std::move(fresh->token_secret_previous);
      // A connection holds its own reference to the context it was accepted with.
      if (fresh->tls) {
        tls = std::move(fresh->tls);
        ctx.tls = tls.get();
      }
      log.info("reload_done", {{"changed", changed}});
    }
    ps::notify_ready("listening; reloaded");
    reload_signal.async_wait(on_reload);
  };
  reload_signal.async_wait(on_reload);

  const auto bound = server->local_endpoint();
  std::cout << "listening on " << bound.address().to_string() << ":" << bound.port() << std::endl;
  log.info("start", {{"listen", bound.address().to_string() + ":" + std::to_string(bound.port())},
                     {"allocator", ps::allocator_description()},
                     {"data_dir", data_dir->string()},
                     {"engine", redis ? "redis" : "embedded"},
                     {"send_path", send_path},
                     {"tls", tls ? "on" : "off"},
                     {"threads", std::to_string(cfg.threads)},
                     {"web_root", cfg.web_root.string()},
                     {"sd_notify", ps::service_notify_built_in() ? "on" : "off"}});
  server->run();
  // The socket is bound and accepting as soon as run() is entered below.
  ps::notify_ready("listening on " + bound.address().to_string() + ":" + std::to_string(bound.port()));

  // Returns once nothing is left to do (after shutdown) or on ioc.stop().
  if (const int code = run_event_loop(ioc, log, metrics); code != 0) return code;
  lanes.stop();
  if (ring_sends) ring_sends->stop();
  uploads.stop();
  log.info("stopped");
  return 0;
}
