// The Hub composes the registry and the sessions: it runs what a session hands back through the
// registry and fans the outcome out, encoding each event once for all of its subscribers.
#include "progress/hub.hpp"

#include <algorithm>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>

#include "progress/codec.hpp"
#include "progress/conflation.hpp"
#include "progress/deadlines.hpp"
#include "progress/registry.hpp"
#include "progress/server_session.hpp"
#include "record_source.hpp"

namespace progress {
namespace {

SharedText shared(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// Encoded snapshots kept for joining subscribers (Impl::encoded_snapshot); past either bound the
// cache starts over.
constexpr std::size_t kSnapshotCacheEntries = 4096;
constexpr std::size_t kSnapshotCacheBytes = 4 * 1024 * 1024;

RegistryConfig registry_config(const HubConfig& config) {
  RegistryConfig registry;
  registry.pending_timeout_ms = config.pending_timeout_ms;
  registry.retention_ms = config.retention_ms;
  registry.history = config.history;
  registry.max_processes = config.max_processes;
  registry.max_subscriptions = config.max_subscriptions;
  registry.max_subscriptions_per_connection = config.max_subscriptions_per_connection;
  registry.record_changes = config.record_changes;
  registry.report_leases = config.records_are_external;
  registry.history_bytes = config.history_bytes;
  registry.history_budget_bytes = config.history_budget_bytes;
  registry.idle_timeout_ms = config.idle_timeout_ms;
  registry.process_ids = config.process_ids;
  return registry;
}

}  // namespace

struct Hub::Impl {
  Impl(HubConfig hub_config, Now now, std::uint64_t seed)
      : config(std::move(hub_config)),
        registry(registry_config(config), seed),
        source(config.records_are_external ? mirrored_records(registry) : embedded_records(registry)),
        hello(shared(encode(ServerFrame{Hello{limits::kProtocolVersion, config.heartbeat_ms,
                                              config.server_name}}))),
        started_at(now.mono) {}

  ServerSession* find(ConnId conn) {
    // A driver writing a connection asks for it twice in a row (poll_outgoing, then poll_close once
    // the queue is empty); the second answer comes from here instead of another cold hash lookup.
    if (last_found != nullptr && last_found_conn == conn) return last_found;
    auto it = sessions.find(conn);
    if (it == sessions.end()) return nullptr;
    last_found_conn = conn;
    last_found = &it->second;
    return last_found;
  }

  // The session's own flag keeps it on the list once: no set node per delivery and no sort of one
  // entry per delivery when the list is taken. The pointer saves a lookup when the list is taken;
  // on_closed takes a session off the list before it is erased.
  void mark_dirty(ConnId conn, ServerSession& session) {
    if (session.list_dirty()) dirty.push_back(DirtyEntry{conn, &session});
  }

  // After any call into a session: keep its timer current and, once it is closing, stop
  // routing events to it.
  void settle(ConnId conn, ServerSession& session) {
    mark_dirty(conn, session);
    if (session.closing()) {
      forget_connection(conn);
      session_deadlines.clear(conn);
    } else if (auto at = session.next_deadline()) {
      session_deadlines.set(conn, *at);
    } else {
      session_deadlines.clear(conn);
    }
  }

  void send_error(ConnId conn, ServerSession& session, Error error) {
    session.send_error(std::move(error));
    settle(conn, session);
  }

  Error count(Error error) {
    ++counters.errors[error.code];
    return error;
  }

  OutFrame event_frame(const RecordedEvent& recorded, SharedText process_id) {
    return OutFrame{shared(encode_event(recorded.event)),
                    event_kind(recorded.event, recorded.stage_changed), std::move(process_id),
                    recorded.event.seq};
  }

  OutFrame snapshot_frame(const Snapshot& snapshot, SharedText process_id) {
    return OutFrame{encoded_snapshot(snapshot.process_id, snapshot.epoch, snapshot.seq, snapshot.updated_at,
                                     [&snapshot] { return snapshot; }),
                    FrameKind::snapshot, std::move(process_id), snapshot.seq};
  }

  // From the record itself: a join that hits the cache copies nothing (a snapshot copy is a copy of
  // the record's JSON).
  OutFrame snapshot_frame(const ProcessRecord& record, SharedText process_id) {
    return OutFrame{encoded_snapshot(record.process_id(), record.epoch(), record.seq(), record.updated_at(),
                                     [&record] { return record.snapshot(); }),
                    FrameKind::snapshot, std::move(process_id), record.seq()};
  }

  // Subscribers joining a process that has not changed since the last one joined share its encoded
  // snapshot, so a storm of joins (or reconnects) encodes it once, not per connection. Every change
  // of a record goes through a new seq and a re-created record has a new epoch; updated_at is
  // compared as well.
  template <class MakeSnapshot>
  SharedText encoded_snapshot(const std::string& process_id, const std::string& epoch, Seq seq, Millis updated_at,
                              MakeSnapshot make_snapshot) {
    auto it = snapshot_cache.find(process_id);
    if (it != snapshot_cache.end() && it->second.seq == seq && it->second.updated_at == updated_at &&
        it->second.epoch == epoch) {
      return it->second.text;
    }
    SharedText text = shared(encode(ServerFrame{make_snapshot()}));
    CachedSnapshot entry{epoch, seq, updated_at, text};
    if (it != snapshot_cache.end()) {
      snapshot_cache_bytes -= it->second.text->size();
      it->second = std::move(entry);
    } else {
      if (snapshot_cache.size() >= kSnapshotCacheEntries) {
        snapshot_cache.clear();  // bounded without bookkeeping: starting over costs one encode per process
        snapshot_cache_bytes = 0;
      }
      snapshot_cache.emplace(process_id, std::move(entry));
    }
    snapshot_cache_bytes += text->size();
    if (snapshot_cache_bytes > kSnapshotCacheBytes) {
      snapshot_cache.clear();
      snapshot_cache_bytes = 0;
    }
    return text;
  }

  // Pushes one already-encoded frame to many sessions. Removals from the registry caused by a
  // slow-consumer close wait until the loop is done: `subscribers` belongs to the registry.
  void deliver(const std::vector<SubscriberId>& subscribers, const OutFrame& frame) {
    std::vector<ConnId> closed;
    for (SubscriberId conn : subscribers) {
      ServerSession* session = find(conn);
      if (session == nullptr) continue;
      if (session->push(frame) == PushResult::closed_slow) closed.push_back(conn);
      mark_dirty(conn, *session);
    }
    for (ConnId conn : closed) settle(conn, sessions.at(conn));
  }

  void fan_out(const Fanout& fanout) {
    const bool to_subscribers = fanout.event && fanout.subscribers != nullptr && !fanout.subscribers->empty();
    const bool to_activated = fanout.snapshot && !fanout.activated.empty();
    if (!to_subscribers && !to_activated) return;
    SharedText process_id =
        shared(to_subscribers ? fanout.event->event.process_id : fanout.snapshot->process_id);
    if (to_subscribers) deliver(*fanout.subscribers, event_frame(*fanout.event, process_id));
    if (to_activated) deliver(fanout.activated, snapshot_frame(*fanout.snapshot, process_id));
  }

  void forget_connection(ConnId conn) { source->remove_connection(conn); }

  void subscribe(ConnId conn, ServerSession& session, const Subscribe& subscribe, Now now) {
    if (source->hold(conn, subscribe)) return;
    auto reply = registry.subscribe(conn, subscribe.process_id, subscribe.after_seq, subscribe.epoch, now);
    if (!reply) {
      send_error(conn, session, reply.error());
      return;
    }
    SharedText process_id = shared(subscribe.process_id);
    std::visit(
        [&](auto& r) {
          using R = std::decay_t<decltype(r)>;
          if constexpr (std::is_same_v<R, PendingReply>) {
            session.send(Pending{r.process_id});
          } else if constexpr (std::is_same_v<R, SnapshotReply>) {
            session.push(snapshot_frame(*r.record, process_id));
          } else {
            replay(session, r.events, process_id);
          }
        },
        reply.value());
    settle(conn, session);
  }

  // A replay that would not fit the queue bound even after conflation would close the client
  // with 1013 on every resume, so it could never catch up: it gets the snapshot instead.
  void replay(ServerSession& session, const std::vector<SharedEvent>& events, const SharedText& process_id) {
    std::vector<OutFrame> frames;
    std::vector<FrameTag> tags;
    std::size_t bytes = 0;
    for (const auto& recorded : events) {
      frames.push_back(event_frame(*recorded, process_id));
      tags.push_back(FrameTag{*process_id, recorded->event.seq, frames.back().kind});
      bytes += frames.back().text->size();
    }
    for (std::size_t dropped : frames_to_drop(tags)) bytes -= frames[dropped].text->size();
    if (session.queued_bytes() + bytes > config.max_queue_bytes) {
      if (const ProcessRecord* record = registry.find(*process_id)) {
        session.push(snapshot_frame(*record, process_id));
        return;
      }
    }
    for (auto& frame : frames) {
      if (session.push(std::move(frame)) == PushResult::closed_slow) return;
    }
  }

  // `decoded`: the publish came through decode_client_frame, which already ran validate(). `from`:
  // the /ws/publish connection it came on (none: the HTTP API). nullopt: the record source handed it
  // to the store, and complete_publish answers it.
  std::optional<Result<Ack>> publish(std::optional<ConnId> from, Publish&& publish, Now now, bool decoded) {
    if (!decoded) {
      if (auto invalid = validate(publish)) return count(std::move(*invalid));
    }
    if (unavailable) {
      return count(Error{ErrorCode::unavailable, *unavailable, publish.process_id, publish.id});
    }
    Ack ack{publish.id.value_or(""), publish.process_id, 0};
    auto applied = source->publish(from, std::move(publish), now);
    if (!applied) return std::nullopt;
    Result<Fanout>& fanout = *applied;
    if (!fanout) return count(fanout.error());
    if (fanout.value().repeated) {  // a retry of an applied update: its first answer, no event
      ack.seq = *fanout.value().repeated;
      return ack;
    }
    ++publishes;
    fan_out(fanout.value());
    ack.seq = fanout.value().event->event.seq;
    return ack;
  }

  void on_client_frame(ConnId conn, ServerSession& session, ClientFrame& frame, Now now) {
    if (auto* sub = std::get_if<Subscribe>(&frame)) {
      subscribe(conn, session, *sub, now);
    } else if (auto* unsub = std::get_if<Unsubscribe>(&frame)) {
      registry.unsubscribe(conn, unsub->process_id);
      source->unsubscribed(conn, unsub->process_id);
    } else if (auto* pub = std::get_if<Publish>(&frame)) {
      const bool wants_ack = pub->id.has_value();
      auto ack = publish(conn, std::move(*pub), now, true);
      if (!ack) return;  // gone to the store
      // The session may have been closed as a slow consumer of its own publish's fan-out.
      if (ServerSession* again = find(conn); again != nullptr) {
        if (!*ack) {
          again->send(ServerFrame{ack->error()});
        } else if (wants_ack) {
          again->send(ServerFrame{ack->value()});
        }
      }
    }
  }

  Health health(Now now) const {
    return Health{sessions.size(), registry.process_count(), (now.mono - started_at) / 1000};
  }

  struct CachedSnapshot {
    std::string epoch;
    Seq seq = 0;
    Millis updated_at = 0;
    SharedText text;
  };

  struct DirtyEntry {
    ConnId conn = 0;
    ServerSession* session = nullptr;  // sessions live in unordered_map nodes: stable addresses
  };

  HubConfig config;
  Registry registry;
  std::unique_ptr<RecordSource> source;  // embedded or mirrored, for the Hub's whole life
  SharedText hello;  // the same for every connection: encoded once, shared like an event
  std::unordered_map<std::string, CachedSnapshot> snapshot_cache;  // by process id
  std::size_t snapshot_cache_bytes = 0;
  MonoMillis started_at;
  std::unordered_map<ConnId, ServerSession> sessions;
  ConnId last_found_conn = 0;
  ServerSession* last_found = nullptr;  // a node of `sessions` (stable until erased), or null
  Deadlines<ConnId> session_deadlines;
  std::vector<DirtyEntry> dirty;
  SessionCounters counters;
  std::uint64_t publishes = 0;
  ConnId next_conn = 1;
  std::optional<std::string> unavailable;  // set_unavailable
};

Hub::Hub(HubConfig config, Now now, std::uint64_t seed)
    : impl_(std::make_unique<Impl>(std::move(config), now, seed)) {}

Hub::~Hub() = default;

ConnId Hub::open(const Target& target, Now now) {
  const ConnId conn = impl_->next_conn++;
  ServerSession& session =
      impl_->sessions.try_emplace(conn, target.endpoint, impl_->config, impl_->counters, now).first->second;
  if (target.endpoint != Endpoint::test_echo && target.endpoint != Endpoint::sse) {
    session.push(OutFrame{impl_->hello, FrameKind::control, nullptr, 0});
  }
  if (target.endpoint == Endpoint::health) session.send(impl_->health(now));
  if (target.endpoint == Endpoint::progress || target.endpoint == Endpoint::sse) {
    if (!is_valid_process_id(target.process_id)) {
      session.send_error(invalid_process_id_error(target.process_id));
      session.close(1008, "invalid process id");
    } else if (auto refused = session.authorize(target.process_id, target.token, now)) {
      // The connection exists only for this process: nothing else can follow the refusal.
      session.send_error(std::move(*refused));
      session.close(1008, "unauthorized");
    } else {
      impl_->subscribe(conn, session,
                       Subscribe{target.process_id, target.after_seq, target.epoch, target.token}, now);
    }
  }
  impl_->settle(conn, session);
  return conn;
}

void Hub::on_text(ConnId conn, std::string_view text, Now now) {
  ServerSession* session = impl_->find(conn);
  if (session == nullptr) return;
  if (auto frame = session->on_text(text, now)) impl_->on_client_frame(conn, *session, *frame, now);
  if (ServerSession* again = impl_->find(conn)) impl_->settle(conn, *again);
}

void Hub::on_binary(ConnId conn, Now now) {
  if (ServerSession* session = impl_->find(conn)) {
    session->on_binary(now);
    impl_->settle(conn, *session);
  }
}

void Hub::on_oversize(ConnId conn, Now now) {
  if (ServerSession* session = impl_->find(conn)) {
    session->on_oversize(now);
    impl_->settle(conn, *session);
  }
}

void Hub::on_control(ConnId conn, Now now) {
  if (ServerSession* session = impl_->find(conn)) {
    session->on_control(now);
    // Only the stale deadline moves: nothing to write, so the connection is not marked dirty.
    if (auto at = session->next_deadline()) impl_->session_deadlines.set(conn, *at);
  }
}

bool Hub::poll_control_ping(ConnId conn) {
  ServerSession* session = impl_->find(conn);
  return session != nullptr && session->poll_control_ping();
}

void Hub::on_closed(ConnId conn) {
  impl_->forget_connection(conn);
  impl_->session_deadlines.clear(conn);
  auto it = impl_->sessions.find(conn);
  if (it == impl_->sessions.end()) return;
  if (it->second.listed_dirty()) {
    std::erase_if(impl_->dirty, [conn](const Impl::DirtyEntry& entry) { return entry.conn == conn; });
  }
  if (impl_->last_found == &it->second) impl_->last_found = nullptr;
  impl_->sessions.erase(it);
}

void Hub::handle_timeout(Now now) {
  TickResult tick = impl_->registry.tick(now);
  for (const auto& expired : tick.not_found) {
    if (ServerSession* session = impl_->find(expired.subscriber)) {
      impl_->send_error(
          expired.subscriber, *session,
          Error{ErrorCode::not_found, "process " + expired.process_id + " did not start in time",
                expired.process_id, std::nullopt});
    }
    impl_->source->listeners_changed(expired.process_id);
  }
  for (const auto& fanout : tick.stalled) impl_->fan_out(fanout);
  impl_->source->lapsed(std::move(tick.lapsed_leases));
  for (ConnId conn : impl_->session_deadlines.poll_due(now.mono)) {
    ServerSession* session = impl_->find(conn);
    if (session == nullptr) continue;
    if (session->on_timer(now)) session->send(impl_->health(now));
    impl_->settle(conn, *session);
  }
}

std::optional<MonoMillis> Hub::poll_timeout() const {
  auto a = impl_->registry.next_deadline();
  auto b = impl_->session_deadlines.next();
  if (a && b) return std::min(*a, *b);
  return a ? a : b;
}

void Hub::close_all(Now) {
  for (auto& [conn, session] : impl_->sessions) {
    session.close(1001, "server shutting down");
    impl_->settle(conn, session);
  }
}

Result<Snapshot> Hub::create_process(std::optional<std::string> process_id, Now now) {
  if (process_id && !is_valid_process_id(*process_id)) {
    return impl_->count(invalid_process_id_error(*process_id));
  }
  if (impl_->unavailable) {
    return impl_->count(Error{ErrorCode::unavailable, *impl_->unavailable, process_id, std::nullopt});
  }
  auto created = impl_->source->create(std::move(process_id), now);
  if (!created) return impl_->count(created.error());
  Created& c = created.value();
  if (!c.activated.empty()) {
    impl_->deliver(c.activated, impl_->snapshot_frame(c.snapshot, shared(c.snapshot.process_id)));
  }
  return c.snapshot;
}

Result<Ack> Hub::publish(const Publish& publish, Now now) {
  // The HTTP API's publish has no connection to answer later: every source answers it now.
  return *impl_->publish(std::nullopt, Publish(publish), now, false);
}

std::vector<StoreRequest> Hub::poll_store_requests() { return impl_->source->poll_store_requests(); }

void Hub::complete_publish(const PublishRequest& request, const Result<Ack>& outcome) {
  if (outcome) ++impl_->publishes;
  ServerSession* session = impl_->find(request.conn);
  if (!outcome) {
    impl_->count(outcome.error());
    if (session != nullptr) impl_->send_error(request.conn, *session, outcome.error());
  } else if (session != nullptr && request.publish.id) {
    session->send(ServerFrame{outcome.value()});
    impl_->settle(request.conn, *session);
  }
}

std::vector<std::string> Hub::watched() const { return impl_->source->watched(); }

void Hub::ingest_record(const std::string& process_id, std::optional<ProcessRecord> record, Now now) {
  Loaded loaded = impl_->source->ingest_record(process_id, std::move(record), now);
  impl_->fan_out(loaded.fanout);
  for (const HeldSubscribe& held : loaded.held) {
    ServerSession* session = impl_->find(held.conn);
    if (session == nullptr || session->closing()) continue;
    impl_->subscribe(held.conn, *session, held.subscribe, now);
  }
  impl_->source->listeners_changed(process_id);
}

void Hub::ingest_change(SharedChange change, Now now) {
  impl_->fan_out(impl_->source->ingest_change(std::move(change), now));
}

std::optional<Snapshot> Hub::snapshot(std::string_view process_id) const {
  const ProcessRecord* record = impl_->registry.find(process_id);
  if (record == nullptr) return std::nullopt;
  return record->snapshot();
}

std::vector<ConnId> Hub::poll_dirty() {
  std::vector<ConnId> out;
  poll_dirty(out);
  return out;
}

void Hub::poll_dirty(std::vector<ConnId>& out) {
  out.reserve(out.size() + impl_->dirty.size());
  // Producers first: their acks leave before the fan-out writes of the same turn, so a producer that
  // keeps a window of unacknowledged publishes sends the next ones while the subscribers are written.
  for (const Impl::DirtyEntry& entry : impl_->dirty) {
    if (entry.session->endpoint() == Endpoint::publish) out.push_back(entry.conn);
  }
  for (const Impl::DirtyEntry& entry : impl_->dirty) {
    entry.session->unlist_dirty();
    if (entry.session->endpoint() != Endpoint::publish) out.push_back(entry.conn);
  }
  impl_->dirty.clear();  // keeps its capacity: no allocation per delivery
}

std::optional<SharedText> Hub::poll_outgoing(ConnId conn) {
  ServerSession* session = impl_->find(conn);
  return session == nullptr ? std::nullopt : session->poll_outgoing();
}

std::size_t Hub::poll_outgoing(ConnId conn, std::vector<SharedText>& out, std::size_t max_frames,
                               std::size_t max_bytes) {
  ServerSession* session = impl_->find(conn);
  return session == nullptr ? 0 : session->poll_outgoing(out, max_frames, max_bytes);
}

std::optional<CloseRequest> Hub::poll_close(ConnId conn) {
  ServerSession* session = impl_->find(conn);
  return session == nullptr ? std::nullopt : session->poll_close();
}

std::size_t Hub::queued_bytes(ConnId conn) const {
  auto it = impl_->sessions.find(conn);
  return it == impl_->sessions.end() ? 0 : it->second.queued_bytes();
}

HubStats Hub::stats() const {
  HubStats stats;
  stats.connections = impl_->sessions.size();
  stats.subscriptions = impl_->registry.subscription_count();
  stats.pending_subscriptions = impl_->registry.pending_count();
  impl_->registry.for_each_record(
      [&stats](const ProcessRecord& record) { ++stats.processes_by_state[record.state()]; });
  stats.frames_in = impl_->counters.frames_in;
  stats.frames_out = impl_->counters.frames_out;
  stats.publishes = impl_->publishes;
  stats.conflated = impl_->counters.conflated;
  stats.slow_disconnects = impl_->counters.slow_disconnects;
  stats.history_bytes = impl_->registry.history_bytes();
  stats.errors_by_code = impl_->counters.errors;
  return stats;
}

const HubConfig& Hub::config() const noexcept { return impl_->config; }

void Hub::poll_changes(std::vector<RecordChange>& out) { impl_->registry.poll_changes(out); }

RestoreSummary Hub::restore(std::vector<StoredRecord> records, bool clean_shutdown, Now now) {
  return impl_->registry.restore(std::move(records), clean_shutdown, now);
}

void Hub::set_unavailable(std::optional<std::string> reason) { impl_->unavailable = std::move(reason); }

}  // namespace progress
