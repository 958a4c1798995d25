#include "redis_engine.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "progress/codec.hpp"
#include "progress/shared_record.hpp"
#include "redis_asio_adapter.hpp"

namespace progress::server {
namespace {

constexpr int kMaxWriteAttempts = 16;  // compare-and-set losses in a row before `unavailable`
constexpr std::chrono::milliseconds kYieldDelay{2};
constexpr int kTurnMs = 200;  // how long a losing node keeps the right to write next
constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
constexpr std::size_t kMaxCachedRecords = 10'000;

// KEYS: record hash, event stream, turn. ARGV: expected seq, expected epoch ("" = must not exist),
// new seq, new epoch, new record, event ("" = none: a creation), channel, stream length, TTL ms
// ("0" = none), change message, node id, turn ms. Returns {1} when written, {0, current record or
// nil} on a mismatch, {2} when another node has the turn.
//
// The turn keeps a busy writer from starving the others: a node that lost a race would otherwise
// always arrive one round trip after the winner's next write. The first loser gets the next write.
constexpr const char* kCasScript = R"lua(
local turn = redis.call('GET', KEYS[3])
if turn and turn ~= ARGV[11] then return {2} end
local cur = redis.call('HMGET', KEYS[1], 'seq', 'epoch', 'record')
local lost = false
if ARGV[2] == '' then
  lost = cur[1] ~= false
elseif cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then
  lost = true
end
if lost then
  if not turn then redis.call('SET', KEYS[3], ARGV[11], 'PX', ARGV[12]) end
  return {0, cur[3]}
end
if turn then redis.call('DEL', KEYS[3]) end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[1], 'seq', ARGV[3], 'epoch', ARGV[4], 'record', ARGV[5])
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[8], ARGV[3] .. '-1', 'event', ARGV[6])
end
if ARGV[9] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[9])
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
end
redis.call('PUBLISH', ARGV[7], ARGV[10])
return {1}
)lua";

// KEYS: record hash, event stream. ARGV: how many events. Returns {record or nil, newest events}.
constexpr const char* kLoadScript = R"lua(
local rec = redis.call('HGET', KEYS[1], 'record')
if not rec then return {false, {}} end
return {rec, redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[1])}
)lua";

template <class Int>
bool parse_int(std::string_view text, Int min, Int max, Int& out) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) return false;
  out = value;
  return true;
}

Error unavailable(const std::string& process_id, const std::optional<Publish>& publish, std::string why) {
  return Error{ErrorCode::unavailable, std::move(why), process_id,
               publish ? publish->id : std::optional<std::string>()};
}

std::string_view text_of(const redisReply* reply) {
  return reply->str == nullptr ? std::string_view() : std::string_view(reply->str, reply->len);
}

bool is_error(const redisReply* reply) { return reply != nullptr && reply->type == REDIS_REPLY_ERROR; }

std::optional<ProcessRecord> parse_record(const redisReply* reply, std::size_t history) {
  if (reply == nullptr || reply->type != REDIS_REPLY_STRING) return std::nullopt;
  auto record = decode_record(text_of(reply), history);
  if (!record) return std::nullopt;
  return std::move(record.value());
}

redis_engine* engine_of(const redisAsyncContext* context) { return static_cast<redis_engine*>(context->data); }

void connected_cb(const redisAsyncContext* context, int status) { engine_of(context)->on_connected(context, status); }

void disconnected_cb(const redisAsyncContext* context, int) { engine_of(context)->on_disconnected(context); }

void reply_cb(redisAsyncContext*, void* reply, void* privdata) {
  auto* handler = static_cast<std::function<void(redisReply*)>*>(privdata);
  (*handler)(static_cast<redisReply*>(reply));
  delete handler;
}

// Subscriptions keep their callback for every message, so it carries the engine, not a handler.
void channel_cb(redisAsyncContext*, void* reply, void* privdata) {
  static_cast<redis_engine*>(privdata)->on_channel_reply(static_cast<redisReply*>(reply));
}

bool send_argv(redisAsyncContext* context, redisCallbackFn* fn, void* privdata, const std::vector<std::string>& args) {
  if (context == nullptr) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return redisAsyncCommandArgv(context, fn, privdata, static_cast<int>(args.size()), argv.data(), lengths.data()) ==
         REDIS_OK;
}

}  // namespace

std::optional<redis_url> parse_redis_url(std::string_view text) {
  constexpr std::string_view scheme = "redis://";
  if (text.substr(0, scheme.size()) != scheme) return std::nullopt;
  text.remove_prefix(scheme.size());
  redis_url url;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    if (!parse_int<int>(text.substr(slash + 1), 0, 1'000'000, url.db)) return std::nullopt;
    text = text.substr(0, slash);
  }
  if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    if (!parse_int<int>(text.substr(colon + 1), 1, 65535, url.port)) return std::nullopt;
    text = text.substr(0, colon);
  }
  if (text.empty() || text.find('@') != std::string_view::npos) return std::nullopt;
  url.host = std::string(text);
  return url;
}

redis_engine::redis_engine(net::io_context& ioc, hub_service& hub, redis_url url, std::uint64_t seed,
                           const logger& log)
    : ioc_(ioc),
      hub_(hub),
      url_(std::move(url)),
      log_(log),
      epochs_(seed),
      node_id_(epochs_.next_epoch() + epochs_.next_epoch()),
      channel_prefix_("progress:" + std::to_string(url_.db) + ":changes:"),
      retry_timer_(ioc),
      backoff_(kMinBackoff) {}

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
  hub_.set_authority(nullptr);
  // Freeing answers every command in flight with no reply: their handlers see the engine down.
  if (auto* context = std::exchange(commands_, nullptr)) redisAsyncFree(context);
  if (auto* context = std::exchange(channels_, nullptr)) redisAsyncFree(context);
}

// ---- connections ---------------------------------------------------------------------------------

void redis_engine::connect() {
  if (stopped_) return;
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
  if (context == channels_) {
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
  for (const auto& id : hub_.core().watched()) channels_state_[id].want = true;
  std::vector<std::string> ids;
  for (const auto& [id, state] : channels_state_) ids.push_back(id);
  for (const auto& id : ids) sync_channel(id);
}

void redis_engine::mark_down(const char* why) {
  if (stopped_) return;
  if (up_) log_.warn("redis_down", {{"reason", why}});
  up_ = false;
  commands_ready_ = channels_ready_ = false;
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
  if (send_argv(context, reply_cb, handler, args)) return true;
  reply_handler failed = std::move(*handler);
  delete handler;
  failed(nullptr);
  return false;
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

// ---- writes --------------------------------------------------------------------------------------

void redis_engine::create_process(std::optional<std::string> process_id, created_handler done) {
  const std::string id = process_id ? std::move(*process_id) : epochs_.next_process_id();
  write_job job;
  job.on_created = std::move(done);
  enqueue(id, std::move(job));
}

void redis_engine::publish(Publish publish, ack_handler done) {
  if (publish.lease_ms && *publish.lease_ms > 0) {
    done(Error{ErrorCode::invalid_update,
               "lease_ms is not supported with the Redis engine (no single node owns the lease timer)",
               publish.process_id, publish.id});
    return;
  }
  const std::string id = publish.process_id;
  write_job job;
  job.publish = std::move(publish);
  job.on_ack = std::move(done);
  enqueue(id, std::move(job));
}

void redis_engine::enqueue(const std::string& process_id, write_job job) {
  auto& queue = writes_[process_id];
  queue.push_back(std::move(job));
  if (queue.size() == 1) step(process_id);
}

void redis_engine::step(const std::string& process_id) {
  auto it = writes_.find(process_id);
  if (it == writes_.end()) return;
  if (it->second.empty()) {
    writes_.erase(it);
    return;
  }
  write_job& job = it->second.front();
  if (job.running) return;
  if (!up_) {
    finish(process_id, unavailable(process_id, job.publish, "the record store (Redis) is unreachable; retry later"),
           false);
    return;
  }
  const auto cached = cache_.find(process_id);
  if (cached == cache_.end()) {
    fetch(process_id);
    return;
  }
  const std::optional<ProcessRecord> base = cached->second;
  const Millis now = wall_now();
  if (!job.publish) {
    if (base && !job.fresh) {  // it may have expired since: ask the store before answering
      fetch(process_id);
      return;
    }
    if (base) {
      finish(process_id, *base, false);
      return;
    }
    compare_and_set(process_id, base, ProcessRecord(process_id, epochs_.next_epoch(), now, 0), std::nullopt);
    return;
  }
  ProcessRecord next = base ? *base : ProcessRecord(process_id, epochs_.next_epoch(), now, 0);
  auto applied = next.apply(*job.publish, now);
  if (!applied) {
    if (!job.fresh) {  // the refusal may come from a stale copy
      fetch(process_id);
      return;
    }
    finish(process_id, applied.error(), false);
    return;
  }
  compare_and_set(process_id, base, std::move(next), std::move(applied.value()));
}

void redis_engine::fetch(const std::string& process_id) {
  writes_[process_id].front().running = true;
  command(commands_, {"HGET", record_key(process_id), "record"}, [this, process_id](redisReply* reply) {
    auto it = writes_.find(process_id);
    if (it == writes_.end() || it->second.empty()) return;
    write_job& job = it->second.front();
    job.running = false;
    if (reply == nullptr || is_error(reply)) {
      if (reply == nullptr) mark_down("no reply");
      finish(process_id, unavailable(process_id, job.publish, "the record store (Redis) did not answer"), false);
      return;
    }
    auto record = parse_record(reply, 0);
    if (reply->type == REDIS_REPLY_STRING && !record) {
      log_.error("redis_bad_record", {{"process_id", process_id}});
      finish(process_id, unavailable(process_id, job.publish, "the stored record is unreadable"), false);
      return;
    }
    remember(process_id, std::move(record));
    job.fresh = true;
    step(process_id);
  });
}

void redis_engine::compare_and_set(const std::string& process_id, const std::optional<ProcessRecord>& base,
                                   ProcessRecord next, std::optional<RecordedEvent> event) {
  writes_[process_id].front().running = true;
  const auto& config = hub_.config();
  const bool finished = next.finished();
  std::vector<std::string> args{"3",
                                record_key(process_id),
                                events_key(process_id),
                                "progress:turn:" + process_id,
                                base ? std::to_string(base->seq()) : "",
                                base ? base->epoch() : "",
                                std::to_string(next.seq()),
                                next.epoch(),
                                encode_record(next),
                                event ? encode_shared_event(*event) : "",
                                channel(process_id),
                                std::to_string(config.history),
                                finished ? std::to_string(config.retention_ms) : "0",
                                encode_change(next, event ? &*event : nullptr),
                                node_id_,
                                std::to_string(kTurnMs)};
  const bool creating = !base;
  run_script(cas_sha_, kCasScript, std::move(args), [this, process_id, next, creating](redisReply* reply) {
    auto it = writes_.find(process_id);
    if (it == writes_.end() || it->second.empty()) return;
    write_job& job = it->second.front();
    job.running = false;
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
      if (reply == nullptr) mark_down("no reply");
      if (is_error(reply)) log_.error("redis_script_failed", {{"error", std::string(text_of(reply))}});
      finish(process_id, unavailable(process_id, job.publish, "the record store (Redis) did not answer"), false);
      return;
    }
    if (reply->element[0]->integer == 1) {
      remember(process_id, next);
      finish(process_id, next, creating);
      return;
    }
    if (reply->element[0]->integer == 2) {  // another node's turn: try again shortly
      job.running = true;
      auto timer = std::make_shared<net::steady_timer>(ioc_, kYieldDelay);
      timer->async_wait([this, timer, process_id](error_code) {
        auto again = writes_.find(process_id);
        if (again == writes_.end() || again->second.empty()) return;
        again->second.front().running = false;
        step(process_id);
      });
      return;
    }
    // Another writer got there first: retry against the record it left.
    remember(process_id, reply->elements > 1 ? parse_record(reply->element[1], 0) : std::nullopt);
    job.fresh = true;
    if (++job.attempts >= kMaxWriteAttempts) {
      finish(process_id, unavailable(process_id, job.publish, "too many concurrent writers; retry later"), false);
      return;
    }
    step(process_id);
  });
}

void redis_engine::finish(const std::string& process_id, const Result<ProcessRecord>& outcome, bool created) {
  auto it = writes_.find(process_id);
  if (it == writes_.end() || it->second.empty()) return;
  write_job job = std::move(it->second.front());
  it->second.pop_front();
  if (job.publish) {
    if (outcome) {
      job.on_ack(Ack{job.publish->id.value_or(""), process_id, outcome.value().seq()});
    } else {
      job.on_ack(outcome.error());
    }
  } else if (outcome) {
    job.on_created(outcome.value().snapshot(), created);
  } else {
    job.on_created(outcome.error(), false);
  }
  step(process_id);
}

void redis_engine::remember(const std::string& process_id, std::optional<ProcessRecord> record) {
  if (cache_.size() >= kMaxCachedRecords && !cache_.contains(process_id)) cache_.clear();
  cache_.insert_or_assign(process_id, std::move(record));
}

void redis_engine::get_process(std::string process_id, record_handler done) {
  if (!up_) {
    done(unavailable(process_id, std::nullopt, "the record store (Redis) is unreachable; retry later"));
    return;
  }
  command(commands_, {"HGET", record_key(process_id), "record"}, [process_id, done](redisReply* reply) {
    if (reply == nullptr || is_error(reply)) {
      done(unavailable(process_id, std::nullopt, "the record store (Redis) did not answer"));
      return;
    }
    auto record = parse_record(reply, 0);
    done(record ? std::optional<Snapshot>(record->snapshot()) : std::nullopt);
  });
}

// ---- following processes -------------------------------------------------------------------------

void redis_engine::pump() {
  Hub& hub = hub_.core();
  for (auto& request : hub.take_publish_requests()) {
    Publish publish = request.publish;
    this->publish(std::move(publish), [this, request = std::move(request)](Result<Ack> outcome) {
      hub_.core().complete_publish(request, outcome);
      hub_.deliver();
    });
  }
  for (auto& change : hub.take_interest_changes()) {
    auto& state = channels_state_[change.process_id];
    state.want = change.watch;
    // Already following (the unsubscribe had not gone out yet): the new waiters need a load.
    if (change.watch && state.subscribed && !state.in_flight) load(change.process_id);
    sync_channel(change.process_id);
  }
}

void redis_engine::sync_channel(const std::string& process_id) {
  auto it = channels_state_.find(process_id);
  if (it == channels_state_.end()) return;
  channel_state& state = it->second;
  if (!up_ || state.in_flight) return;
  if (state.want == state.subscribed) {
    if (!state.want) channels_state_.erase(it);
    return;
  }
  state.in_flight = true;
  if (!send_argv(channels_, channel_cb, this, {state.want ? "SUBSCRIBE" : "UNSUBSCRIBE", channel(process_id)})) {
    state.in_flight = false;
    mark_down("SUBSCRIBE failed");
  }
}

void redis_engine::on_channel_reply(redisReply* reply) {
  if (stopped_ || reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
  const std::string_view kind = text_of(reply->element[0]);
  const std::string_view name = text_of(reply->element[1]);
  if (name.substr(0, channel_prefix_.size()) != channel_prefix_) return;
  const std::string id(name.substr(channel_prefix_.size()));
  if (kind == "message") {
    auto change = decode_change(text_of(reply->element[2]), hub_.config().history);
    if (!change) {
      log_.warn("redis_bad_change", {{"process_id", id}, {"error", change.error().message}});
      return;
    }
    hub_.core().ingest_change(std::move(change.value()), wall_now());
    hub_.deliver();
    return;
  }
  auto it = channels_state_.find(id);
  if (it == channels_state_.end()) return;
  it->second.in_flight = false;
  it->second.subscribed = kind == "subscribe";
  if (it->second.subscribed && it->second.want) load(id);
  sync_channel(id);
}

void redis_engine::load(const std::string& process_id) {
  if (!up_) return;  // on_ready reloads everything watched
  const std::size_t history = hub_.config().history;
  run_script(load_sha_, kLoadScript,
             {"2", record_key(process_id), events_key(process_id), std::to_string(history)},
             [this, process_id, history](redisReply* reply) {
               if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
                 if (is_error(reply)) log_.error("redis_load_failed", {{"error", std::string(text_of(reply))}});
                 if (reply == nullptr) mark_down("no reply");
                 return;  // the reconnect reloads it
               }
               std::optional<ProcessRecord> record = parse_record(reply->element[0], history);
               if (record) {
                 std::vector<RecordedEvent> events;
                 const redisReply* entries = reply->element[1];
                 for (std::size_t i = entries->elements; i-- > 0;) {
                   const redisReply* entry = entries->element[i];
                   if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) continue;
                   const redisReply* fields = entry->element[1];
                   if (fields->type != REDIS_REPLY_ARRAY || fields->elements < 2) continue;
                   if (auto event = decode_shared_event(text_of(fields->element[1]))) events.push_back(event.value());
                 }
                 record->start_history(events);
               } else if (reply->element[0]->type == REDIS_REPLY_STRING) {
                 log_.error("redis_bad_record", {{"process_id", process_id}});
                 return;
               }
               hub_.core().ingest_record(process_id, std::move(record), wall_now());
               hub_.deliver();
             });
}

}  // namespace progress::server
