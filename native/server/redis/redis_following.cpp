// How a Redis node follows processes: it subscribes to the change channels of the processes its
// own subscribers watch (and only those), loads a record with its stream when it starts following,
// and feeds changes and loads into the hub; publishes from /ws/publish go through the writes.
#include <algorithm>
#include <memory>
#include <utility>
#include <variant>

#include "progress/shared_record.hpp"
#include "redis/redis_engine.hpp"
#include "redis/redis_replies.hpp"
#include "redis/redis_scripts.hpp"

namespace progress::server {
namespace {

using namespace redis_detail;

// Subscriptions keep their callback for every message, so it carries the engine, not a handler.
void channel_cb(redisAsyncContext*, void* reply, void* privdata) {
  static_cast<redis_engine*>(privdata)->on_channel_reply(static_cast<redisReply*>(reply));
}

}  // namespace

void redis_engine::pump() {
  for (auto& request : hub_.poll_store_requests()) {
    if (auto* write = std::get_if<PublishRequest>(&request)) {
      Publish publish = write->publish;
      this->publish(std::move(publish), [this, request = std::move(*write)](Result<Ack> outcome) {
        if (outcome && !change_heard(request.publish.process_id, outcome.value().seq)) {
          held_acks_[request.publish.process_id].push_back(held_ack{request, outcome.value()});
          return;
        }
        hub_.complete_publish(request, outcome);
        hub_.deliver();
      });
    } else if (auto* lapsed = std::get_if<LapsedLease>(&request)) {
      write_job expiry;
      expiry.expire_lease = true;
      enqueue(lapsed->process_id, std::move(expiry));
    } else if (auto* change = std::get_if<InterestChange>(&request)) {
      auto& state = channels_state_[change->process_id];
      state.want = change->watch;
      // Already following (the unsubscribe had not gone out yet): the new waiters need a load.
      if (change->watch && state.subscribed && !state.in_flight) load(change->process_id);
      sync_channel(change->process_id);
    }
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
  if (name == sync_channel_) {
    if (kind == "subscribe" && !sync_waiters_.empty()) {
      auto done = std::move(sync_waiters_.front());
      sync_waiters_.pop_front();
      done();
    }
    return;
  }
  if (name == heartbeat_channel_) {
    if (kind == "subscribe") arm_heartbeat();
    if (kind == "message") heartbeat_outstanding_ = false;
    return;
  }
  if (name.substr(0, channel_prefix_.size()) != channel_prefix_) return;
  const std::string id(name.substr(channel_prefix_.size()));
  if (kind == "message") {
    auto change = decode_change(text_of(reply->element[2]), hub_.config().history);
    if (!change) {
      log_.warn("redis_bad_change", {{"process_id", id}, {"error", change.error().message}});
      return;
    }
    const Seq seq = change.value().record.seq();
    hub_.ingest_change(std::move(change.value()));
    release_acks(id, seq);
    hub_.deliver();
    return;
  }
  auto it = channels_state_.find(id);
  if (it == channels_state_.end()) return;
  it->second.in_flight = false;
  it->second.subscribed = kind == "subscribe";
  if (!it->second.subscribed) release_acks(id, std::nullopt);  // its changes all came before this
  if (it->second.subscribed && it->second.want) load(id);
  sync_channel(id);
}

bool redis_engine::change_heard(const std::string& process_id, Seq seq) const {
  // The script published the change before answering, so a followed channel delivers it: wait for
  // it only then. Not followed (or not yet confirmed): nothing will come back to wait for.
  const auto it = channels_state_.find(process_id);
  if (it == channels_state_.end() || !it->second.subscribed || it->second.in_flight) return true;
  const auto mirrored = hub_.snapshot(process_id);
  return mirrored && mirrored->seq >= seq;
}

void redis_engine::release_acks(const std::string& process_id, std::optional<Seq> up_to) {
  auto it = held_acks_.find(process_id);
  if (it == held_acks_.end()) return;
  auto& held = it->second;
  const auto ready = std::stable_partition(held.begin(), held.end(), [up_to](const held_ack& h) {
    return up_to && h.ack.seq > *up_to;
  });
  for (auto i = ready; i != held.end(); ++i) hub_.complete_publish(i->request, i->ack);
  held.erase(ready, held.end());
  if (held.empty()) held_acks_.erase(it);
}

bool redis_engine::idle() const {
  if (!writes_.empty() || !waiting_since_.empty()) return false;
  if (!sync_waiters_.empty() || !held_acks_.empty()) return false;
  for (const auto& [id, state] : channels_state_) {
    if (state.in_flight) return false;
  }
  return true;
}

void redis_engine::sync(std::function<void()> done) {
  sync_waiters_.push_back(std::move(done));
  if (!up_ || !send_argv(channels_, channel_cb, this, {"SUBSCRIBE", sync_channel_})) release_sync_waiters();
}

void redis_engine::follow_heartbeat() {
  if (!send_argv(channels_, channel_cb, this, {"SUBSCRIBE", heartbeat_channel_})) mark_down("SUBSCRIBE failed");
}

void redis_engine::release_sync_waiters() {
  for (auto& done : std::exchange(sync_waiters_, {})) net::post(ioc_, std::move(done));
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
                 std::vector<SharedEvent> events;
                 const redisReply* entries = reply->element[1];
                 for (std::size_t i = entries->elements; i-- > 0;) {
                   const redisReply* entry = entries->element[i];
                   if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) continue;
                   const redisReply* fields = entry->element[1];
                   if (fields->type != REDIS_REPLY_ARRAY || fields->elements < 2) continue;
                   if (auto event = decode_shared_event(text_of(fields->element[1]))) {
                     events.push_back(std::make_shared<const RecordedEvent>(std::move(event.value())));
                   }
                 }
                 record->start_history(events);
               } else if (reply->element[0]->type == REDIS_REPLY_STRING) {
                 log_.error("redis_bad_record", {{"process_id", process_id}});
                 return;
               }
               hub_.ingest_record(process_id, std::move(record));
               hub_.deliver();
             });
}

}  // namespace progress::server
