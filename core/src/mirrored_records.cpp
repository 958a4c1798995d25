// Records kept in a shared store (the server's Redis engine): the registry mirrors the processes
// local subscribers watch, writes go to the store's driver, and loads and changes come back from it.
// Pending timeouts and not_found stay local decisions; a mirrored lease that runs out goes to the
// driver, which writes the expiry under the store's compare-and-set, so every node sees one failure.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "record_source.hpp"

namespace progress {
namespace {

Error store_only(const std::string& what) {
  return Error{ErrorCode::unavailable, what + " goes to the record store when records are external",
               std::nullopt, std::nullopt};
}

class MirroredRecords final : public RecordSource {
 public:
  explicit MirroredRecords(Registry& registry) : registry_(registry) {}

  // A process not mirrored and not known to be absent must be loaded before the subscriber can be
  // told anything: it may exist in the store.
  bool hold(ConnId conn, const Subscribe& subscribe) override {
    const std::string& id = subscribe.process_id;
    if (registry_.find(id) != nullptr) return false;
    if (watching_.contains(id) && !loading_.contains(id)) return false;  // loaded: absent -> pending
    auto& held = loading_[id];
    std::erase_if(held, [conn](const HeldSubscribe& h) { return h.conn == conn; });
    held.push_back(HeldSubscribe{conn, subscribe});
    update_interest(id);
    return true;
  }

  void unsubscribed(ConnId conn, const std::string& process_id) override {
    if (auto it = loading_.find(process_id); it != loading_.end()) {
      std::erase_if(it->second, [conn](const HeldSubscribe& h) { return h.conn == conn; });
      if (it->second.empty()) loading_.erase(it);
    }
    update_interest(process_id);
  }

  void listeners_changed(const std::string& process_id) override { update_interest(process_id); }

  void remove_connection(ConnId conn) override {
    std::vector<std::string> touched = registry_.processes_of(conn);
    registry_.remove_subscriber(conn);
    for (auto& [process_id, held] : loading_) {
      if (std::erase_if(held, [conn](const HeldSubscribe& h) { return h.conn == conn; }) > 0) {
        touched.push_back(process_id);
      }
    }
    std::erase_if(loading_, [](const auto& item) { return item.second.empty(); });
    for (const auto& process_id : touched) update_interest(process_id);
  }

  // The HTTP API's writes are the driver's own (it applies them to the store without the hub).
  std::optional<Result<Fanout>> publish(std::optional<ConnId> from, Publish&& publish, Now) override {
    if (!from) return Result<Fanout>(store_only("a publish"));
    requests_.emplace_back(PublishRequest{*from, std::move(publish)});
    return std::nullopt;
  }
  Result<Created> create(std::optional<std::string>, Now) override { return store_only("creating a process"); }
  void lapsed(std::vector<std::string> process_ids) override {
    for (auto& process_id : process_ids) requests_.emplace_back(LapsedLease{std::move(process_id)});
  }

  Loaded ingest_record(const std::string& process_id, std::optional<ProcessRecord> record, Now now) override {
    Loaded loaded;
    if (!watching_.contains(process_id)) return loaded;
    if (record && record->process_id() == process_id) loaded.fanout = registry_.mirror(std::move(*record), nullptr, now);
    if (auto held = loading_.extract(process_id)) loaded.held = std::move(held.mapped());
    return loaded;
  }

  Fanout ingest_change(SharedChange change, Now now) override {
    if (!watching_.contains(change.record.process_id())) return {};
    return registry_.mirror(std::move(change.record), change.event, now);
  }

  std::vector<StoreRequest> poll_store_requests() override { return std::exchange(requests_, {}); }

  std::vector<std::string> watched() const override { return {watching_.begin(), watching_.end()}; }

 private:
  // Follow a process while anyone here listens or waits for its load; a mirror nobody follows would
  // go stale, so it is dropped.
  void update_interest(const std::string& process_id) {
    const bool want = registry_.listeners(process_id) > 0 || loading_.contains(process_id);
    if (want == watching_.contains(process_id)) return;
    if (want) {
      watching_.insert(process_id);
    } else {
      watching_.erase(process_id);
      registry_.forget(process_id);
    }
    requests_.emplace_back(InterestChange{process_id, want});
  }

  Registry& registry_;
  std::unordered_map<std::string, std::vector<HeldSubscribe>> loading_;  // waiting for a load
  std::unordered_set<std::string> watching_;                             // followed processes
  std::vector<StoreRequest> requests_;
};

}  // namespace

std::unique_ptr<RecordSource> mirrored_records(Registry& registry) {
  return std::make_unique<MirroredRecords>(registry);
}

}  // namespace progress
