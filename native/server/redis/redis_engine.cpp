// The Redis engine's writes (creates and publishes, one at a time per process, applied with the core
// and compare-and-set by the script) and reads of one record; the URL it is given.
#include "redis/redis_engine.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "progress/codec.hpp"
#include "progress/idempotency.hpp"
#include "progress/limits.hpp"
#include "progress/shared_record.hpp"
#include "base/parse_int.hpp"
#include "base/process_ids.hpp"
#include "redis/redis_replies.hpp"
#include "redis/redis_scripts.hpp"

namespace progress::server {
namespace {

using namespace redis_detail;

constexpr int kMaxWriteAttempts = 16;  // compare-and-set losses in a row before `unavailable`
constexpr std::chrono::milliseconds kYieldDelay{2};
constexpr int kTurnMs = 200;  // how long a losing node keeps the right to write next
constexpr std::size_t kMaxCachedRecords = 10'000;
// Every record of the database with when it expires, for --max-processes (see kCasScript).
constexpr const char* kLiveRecordsKey = "progress:live";

}  // namespace

namespace {

// RFC 3986 percent-decoding of the URL's user information; nullopt on a bad escape.
std::optional<std::string> percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    unsigned value = 0;
    if (text.size() - i < 3) return std::nullopt;
    for (const char c : text.substr(i + 1, 2)) {
      const int digit = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
      if (digit < 0) return std::nullopt;
      value = value * 16 + static_cast<unsigned>(digit);
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
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
  if (const auto at = text.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = text.substr(0, at);
    text = text.substr(at + 1);
    // A bare `word@` could be a user or a password: the colon says which.
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto username = percent_decoded(userinfo.substr(0, colon));
    auto password = percent_decoded(userinfo.substr(colon + 1));
    if (!username || !password || password->empty()) return std::nullopt;
    url.username = std::move(*username);
    url.password = std::move(*password);
  }
  if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    if (!parse_int<int>(text.substr(colon + 1), 1, 65535, url.port)) return std::nullopt;
    text = text.substr(0, colon);
  }
  if (text.empty() || text.find('@') != std::string_view::npos) return std::nullopt;
  url.host = std::string(text);
  return url;
}

void redis_engine::create_process(std::optional<std::string> process_id, created_handler done) {
  if (process_id && !is_valid_process_id(*process_id)) {
    done(invalid_process_id_error(*process_id), false);
    return;
  }
  const std::string id = process_id ? std::move(*process_id) : random_process_id();
  if (!is_valid_process_id(id)) {
    done(Error{ErrorCode::unavailable, "no process id could be generated; retry later", std::nullopt, std::nullopt},
         false);
    return;
  }
  write_job job;
  job.on_created = std::move(done);
  enqueue(id, std::move(job));
}

void redis_engine::publish(Publish publish, ack_handler done) {
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
  if (job.publish && job.publish->idempotency_key && !job.key_checked) {
    // Before the record: a retry of an update that finished the process must get its first
    // answer, not process_finished.
    check_idempotency_key(process_id);
    return;
  }
  const auto cached = cache_.find(process_id);
  if (cached == cache_.end()) {
    fetch(process_id);
    return;
  }
  const std::optional<ProcessRecord> base = cached->second;
  const Millis now = hub_.now().wall;
  if (base && lease_lapsed(*base, now) && !job.expire_lease) {
    // The lease ran out before this write arrived: its expiry goes first, as the embedded hub's
    // timer would have written it, and this write then meets the failed record.
    write_job expiry;
    expiry.expire_lease = true;
    it->second.push_front(std::move(expiry));
    step(process_id);
    return;
  }
  if (job.expire_lease) {
    SharedEvent failed;
    std::optional<ProcessRecord> next = base;
    if (next) failed = expire(*next, now);
    if (!failed) {
      if (base && !job.fresh) {  // the lapse may come from a stale copy
        fetch(process_id);
        return;
      }
      finish(process_id, unavailable(process_id, std::nullopt, "no lease to expire"), false);
      return;
    }
    compare_and_set(process_id, base, std::move(*next), std::move(failed));
    return;
  }
  if (!job.publish) {
    if (base && !job.fresh) {  // it may have expired since: ask the store before answering
      fetch(process_id);
      return;
    }
    if (base) {
      finish(process_id, *base, false);
      return;
    }
    compare_and_set(process_id, base, ProcessRecord(process_id, epochs_.next_epoch(), now, 0), nullptr);
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
                                   ProcessRecord next, SharedEvent event) {
  writes_[process_id].front().running = true;
  const auto& config = hub_.config();
  const bool finished = next.finished();
  const std::optional<Publish>& publish = writes_[process_id].front().publish;
  const bool keyed = publish && publish->idempotency_key;
  // A finished record lives `retention_ms`; an unfinished one as long as its lease or idle timeout
  // and then that long again, so a record nobody follows or touches (no node's timer sees it) still
  // leaves Redis. Any node reading or writing it before then writes its `stalled` failure.
  const Millis now = hub_.now().wall;
  std::optional<Millis> due = finished ? std::optional<Millis>(now) : next.lease_deadline();
  if (!due) due = next.idle_deadline(config.idle_timeout_ms);
  const std::string ttl = due ? std::to_string(std::max<Millis>(*due - now, 0) + config.retention_ms) : "0";
  std::vector<std::string> args{"5",
                                record_key(process_id),
                                events_key(process_id),
                                "progress:turn:" + process_id,
                                kLiveRecordsKey,
                                idempotency_key(process_id, keyed ? *publish->idempotency_key : ""),
                                base ? std::to_string(base->seq()) : "",
                                base ? base->epoch() : "",
                                std::to_string(next.seq()),
                                next.epoch(),
                                encode_record(next),
                                event ? encode_shared_event(*event) : "",
                                channel(process_id),
                                std::to_string(config.history),
                                ttl,
                                encode_change(next, event.get()),
                                node_id_,
                                std::to_string(kTurnMs),
                                process_id,
                                std::to_string(config.max_processes),
                                keyed ? std::to_string(idempotency_fingerprint(*publish)) : "",
                                std::to_string(limits::kIdempotencyKeyTtlMs)};
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
    if (reply->element[0]->integer == 4 && reply->elements > 1) {
      finish_repeat(process_id, text_of(reply->element[1]));
      return;
    }
    if (reply->element[0]->integer == 3) {  // the same answer, and words, as the embedded engine's
      finish(process_id, unavailable(process_id, job.publish, "process limit reached"), false);
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
  if (job.expire_lease) {
    // Nobody waits for it: subscribers hear the failure on the channel like any write.
  } else if (job.publish) {
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

void redis_engine::check_idempotency_key(const std::string& process_id) {
  write_job& front = writes_[process_id].front();
  front.running = true;
  command(commands_, {"GET", idempotency_key(process_id, *front.publish->idempotency_key)},
          [this, process_id](redisReply* reply) {
            auto it = writes_.find(process_id);
            if (it == writes_.end() || it->second.empty()) return;
            write_job& job = it->second.front();
            job.running = false;
            if (reply == nullptr || is_error(reply)) {
              if (reply == nullptr) mark_down("no reply");
              finish(process_id, unavailable(process_id, job.publish, "the record store (Redis) did not answer"),
                     false);
              return;
            }
            if (reply->type == REDIS_REPLY_STRING) {
              finish_repeat(process_id, text_of(reply));
              return;
            }
            job.key_checked = true;
            step(process_id);
          });
}

void redis_engine::finish_repeat(const std::string& process_id, std::string_view stored) {
  auto it = writes_.find(process_id);
  if (it == writes_.end() || it->second.empty()) return;
  write_job job = std::move(it->second.front());
  it->second.pop_front();
  const auto space = stored.find(' ');
  std::uint64_t fingerprint = 0;
  Seq seq = 0;
  if (space == std::string_view::npos ||
      !parse_int<std::uint64_t>(stored.substr(0, space), 0, UINT64_MAX, fingerprint) ||
      !parse_int<Seq>(stored.substr(space + 1), 0, UINT64_MAX, seq)) {
    log_.error("redis_bad_idempotency_key", {{"process_id", process_id}});
    job.on_ack(unavailable(process_id, job.publish, "the stored idempotency key is unreadable"));
  } else if (fingerprint != idempotency_fingerprint(*job.publish)) {
    job.on_ack(idempotency_reuse_error(*job.publish));
  } else {
    job.on_ack(Ack{job.publish->id.value_or(""), process_id, seq});
  }
  step(process_id);
}

bool redis_engine::lease_lapsed(const ProcessRecord& record, Millis now) const {
  const auto deadline = record.lease_deadline() ? record.lease_deadline()
                                                : record.idle_deadline(hub_.config().idle_timeout_ms);
  return deadline && *deadline <= now && !record.finished();
}

SharedEvent redis_engine::expire(ProcessRecord& record, Millis now) const {
  if (auto failed = record.expire_lease(now)) return failed;
  return record.expire_idle(now, hub_.config().idle_timeout_ms);
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
  command(commands_, {"HGET", record_key(process_id), "record"}, [this, process_id, done](redisReply* reply) {
    if (reply == nullptr || is_error(reply)) {
      done(unavailable(process_id, std::nullopt, "the record store (Redis) did not answer"));
      return;
    }
    auto record = parse_record(reply, 0);
    if (record && lease_lapsed(*record, hub_.now().wall)) {
      // Nobody may be following it to notice: answer it failed and write the expiry now.
      expire(*record, hub_.now().wall);
      write_job expiry;
      expiry.expire_lease = true;
      enqueue(process_id, std::move(expiry));
    }
    done(record ? std::optional<Snapshot>(record->snapshot()) : std::nullopt);
  });
}

}  // namespace progress::server
