// The Redis engine's two connections (commands, and the channels it follows): connecting on the
// io_context, loading the scripts, noticing a lost or hung Redis, and reconnecting with backoff.
#include <algorithm>
#include <utility>

#include "redis/redis_asio_adapter.hpp"
#include "redis/redis_engine.hpp"
#include "redis/redis_replies.hpp"
#include "redis/redis_scripts.hpp"

namespace progress::server {
namespace {

using namespace redis_detail;

constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

redis_engine* engine_of(const redisAsyncContext* context) { return static_cast<redis_engine*>(context->data); }

void connected_cb(const redisAsyncContext* context, int status) { engine_of(context)->on_connected(context, status); }

void disconnected_cb(const redisAsyncContext* context, int) { engine_of(context)->on_disconnected(context); }

void reply_cb(redisAsyncContext*, void* reply, void* privdata) {
  auto* handler = static_cast<std::function<void(redisReply*)>*>(privdata);
  (*handler)(static_cast<redisReply*>(reply));
  delete handler;
}

}  // namespace

redis_engine::redis_engine(net::io_context& ioc, hub_service& hub, redis_url url, std::uint64_t seed,
                           const logger& log, std::chrono::milliseconds command_timeout)
    : ioc_(ioc),
      hub_(hub),
      url_(std::move(url)),
      log_(log),
      epochs_(seed),
      // Its own stream, so the record epochs follow the seed exactly as the embedded hub's do.
      node_id_([seed] {
        EpochSource ids(seed ^ 0x6e6f64652d696473ULL);  // "node-ids"
        return ids.next_epoch() + ids.next_epoch();
      }()),
      channel_prefix_("progress:" + std::to_string(url_.db) + ":changes:"),
      retry_timer_(ioc),
      backoff_(kMinBackoff),
      command_timeout_(command_timeout),
      watchdog_(ioc),
      sync_channel_("progress:" + std::to_string(url_.db) + ":sync:" + node_id_),
      heartbeat_channel_("progress:" + std::to_string(url_.db) + ":heartbeat:" + node_id_),
      heartbeat_timer_(ioc) {}

redis_engine::~redis_engine() { stop(); }

void redis_engine::start() {
  hub_.set_authority(this);
  connect();
}

void redis_engine::stop() {
  if (stopped_) return;
  stopped_ = true;
  up_ = false;
  retry_timer_.cancel();
  watchdog_.cancel();
  heartbeat_timer_.cancel();
  hub_.set_authority(nullptr);
  release_sync_waiters();
  // Freeing answers every command in flight with no reply: their handlers see the engine down.
  if (auto* context = std::exchange(commands_, nullptr)) redisAsyncFree(context);
  if (auto* context = std::exchange(channels_, nullptr)) redisAsyncFree(context);
}

// ---- connections ---------------------------------------------------------------------------------

void redis_engine::connect() {
  if (stopped_) return;
  ++connection_;
  waiting_since_.clear();
  commands_ = redisAsyncConnect(url_.host.c_str(), url_.port);
  channels_ = redisAsyncConnect(url_.host.c_str(), url_.port);
  for (redisAsyncContext* context : {commands_, channels_}) {
    if (context == nullptr || context->err != 0) {
      mark_down(context == nullptr ? "out of memory" : context->errstr);
      return;
    }
  }
  for (redisAsyncContext* context : {commands_, channels_}) {
    context->data = this;
    redisAsyncSetConnectCallback(context, connected_cb);
    redisAsyncSetDisconnectCallback(context, disconnected_cb);
    attach_to_asio(context, ioc_);
  }
}

void redis_engine::on_connected(const redisAsyncContext* context, int status) {
  if (status != REDIS_OK) {
    // hiredis frees a context that failed to connect right after this callback.
    if (context == commands_) commands_ = nullptr;
    if (context == channels_) channels_ = nullptr;
    mark_down("cannot connect");
    return;
  }
  // AUTH goes first on both connections; Redis answers commands in order, so nothing sent after it
  // runs unauthenticated. A refusal names no password: the log never sees it.
  if (url_.password) {
    std::vector<std::string> auth{"AUTH"};
    if (!url_.username.empty()) auth.push_back(url_.username);
    auth.push_back(*url_.password);
    const bool channels = context == channels_;
    command(channels ? channels_ : commands_, auth, [this, channels](redisReply* reply) {
      if (reply == nullptr || is_error(reply)) {
        log_.error("redis_auth_refused", {{"host", url_.host}, {"port", std::to_string(url_.port)},
                                          {"reply", reply == nullptr ? "none" : std::string(text_of(reply))}});
        return mark_down("AUTH failed");
      }
      if (channels) {
        channels_ready_ = true;
        on_ready();
      }
    });
    if (channels) return;
  } else if (context == channels_) {
    channels_ready_ = true;
    on_ready();
    return;
  }
  if (context != commands_) return;
  if (url_.db != 0) {
    command(commands_, {"SELECT", std::to_string(url_.db)}, [this](redisReply* reply) {
      if (reply == nullptr || is_error(reply)) mark_down("SELECT failed");
    });
  }
  command(commands_, {"SCRIPT", "LOAD", kCasScript}, [this](redisReply* reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_STRING) return mark_down("SCRIPT LOAD failed");
    cas_sha_ = std::string(text_of(reply));
  });
  command(commands_, {"SCRIPT", "LOAD", kLoadScript}, [this](redisReply* reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_STRING) return mark_down("SCRIPT LOAD failed");
    load_sha_ = std::string(text_of(reply));
    commands_ready_ = true;
    on_ready();
  });
}

void redis_engine::on_disconnected(const redisAsyncContext* context) {
  if (context == commands_) commands_ = nullptr;
  if (context == channels_) channels_ = nullptr;
  mark_down("connection lost");
}

void redis_engine::on_ready() {
  if (!commands_ready_ || !channels_ready_ || up_ || stopped_) return;
  up_ = true;
  backoff_ = kMinBackoff;
  log_.info("redis_up", {{"host", url_.host}, {"port", std::to_string(url_.port)}});
  // Follow every watched process again and reload it: changes while down were not heard.
  for (auto& [id, state] : channels_state_) state = channel_state{};
  for (const auto& id : hub_.watched()) channels_state_[id].want = true;
  std::vector<std::string> ids;
  for (const auto& [id, state] : channels_state_) ids.push_back(id);
  for (const auto& id : ids) sync_channel(id);
  follow_heartbeat();
}

void redis_engine::mark_down(const char* why) {
  if (stopped_) return;
  if (up_) log_.warn("redis_down", {{"reason", why}});
  up_ = false;
  release_sync_waiters();
  // Those writes were applied; their echo may now never come.
  std::vector<std::string> held;
  for (const auto& [id, acks] : held_acks_) held.push_back(id);
  for (const auto& id : held) release_acks(id, std::nullopt);
  if (!held.empty()) hub_.deliver();
  commands_ready_ = channels_ready_ = false;
  heartbeat_timer_.cancel();
  heartbeat_outstanding_ = false;
  if (retry_scheduled_) return;
  retry_scheduled_ = true;
  // Never free a context from inside one of its own callbacks: tear down from a fresh handler.
  net::post(ioc_, [this] { teardown_and_retry(); });
}

void redis_engine::teardown_and_retry() {
  if (stopped_) return;
  if (auto* context = std::exchange(commands_, nullptr)) redisAsyncFree(context);
  if (auto* context = std::exchange(channels_, nullptr)) redisAsyncFree(context);
  log_.debug("redis_retry", {{"in_ms", std::to_string(backoff_.count())}});
  retry_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  retry_timer_.async_wait([this](error_code ec) {
    retry_scheduled_ = false;
    if (ec || stopped_) return;
    connect();
  });
}

bool redis_engine::command(redisAsyncContext* context, const std::vector<std::string>& args, reply_handler done) {
  auto* handler = new reply_handler(std::move(done));
  if (!send_argv(context, reply_cb, handler, args)) {
    reply_handler failed = std::move(*handler);
    delete handler;
    failed(nullptr);
    return false;
  }
  // hiredis calls back later (a reply, or no reply when the connection is freed), never in here.
  *handler = [this, connection = connection_, inner = std::move(*handler)](redisReply* reply) {
    reply_arrived(connection);
    inner(reply);
  };
  waiting_since_.push_back(std::chrono::steady_clock::now());
  arm_watchdog();
  return true;
}

void redis_engine::reply_arrived(std::uint64_t connection) {
  if (connection == connection_ && !waiting_since_.empty()) waiting_since_.pop_front();
}

void redis_engine::arm_watchdog() {
  if (watchdog_armed_ || waiting_since_.empty() || stopped_) return;
  watchdog_armed_ = true;
  watchdog_.expires_at(waiting_since_.front() + command_timeout_);
  watchdog_.async_wait([this](error_code ec) {
    watchdog_armed_ = false;
    if (ec || stopped_ || waiting_since_.empty()) return;
    if (std::chrono::steady_clock::now() - waiting_since_.front() < command_timeout_) return arm_watchdog();
    log_.warn("redis_timeout", {{"timeout_ms", std::to_string(command_timeout_.count())}});
    // Freeing the connection (teardown) answers every command still waiting with no reply, so their
    // publishes get `unavailable`; the reconnect follows with backoff.
    waiting_since_.clear();
    mark_down("command timed out");
  });
}

// Armed once the heartbeat channel's SUBSCRIBE is confirmed, so the first heartbeat cannot be
// published before this node listens for it.
void redis_engine::arm_heartbeat() {
  heartbeat_timer_.expires_after(command_timeout_);
  heartbeat_timer_.async_wait([this, connection = connection_](error_code ec) {
    if (ec || stopped_ || connection != connection_) return;
    on_heartbeat_due();
  });
}

void redis_engine::on_heartbeat_due() {
  if (!up_) return;
  if (heartbeat_outstanding_) {
    // The publish itself is guarded by the command timeout: this is the channel connection.
    log_.warn("redis_channel_silent", {{"timeout_ms", std::to_string(command_timeout_.count())}});
    return mark_down("channel connection silent");
  }
  heartbeat_outstanding_ = true;
  command(commands_, {"PUBLISH", heartbeat_channel_, "beat"}, [](redisReply*) {});
  arm_heartbeat();
}

void redis_engine::run_script(const std::string& sha, const std::string& source, std::vector<std::string> args,
                              reply_handler done) {
  std::vector<std::string> evalsha{"EVALSHA", sha};
  evalsha.insert(evalsha.end(), args.begin(), args.end());
  command(commands_, evalsha, [this, source, args = std::move(args), done](redisReply* reply) mutable {
    // SCRIPT FLUSH or a failover to a node without the script: send the source once.
    if (is_error(reply) && text_of(reply).substr(0, 8) == "NOSCRIPT") {
      std::vector<std::string> eval{"EVAL", source};
      eval.insert(eval.end(), args.begin(), args.end());
      command(commands_, eval, std::move(done));
      return;
    }
    done(reply);
  });
}

}  // namespace progress::server
