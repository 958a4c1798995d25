// Records kept in the node's own registry: it is the record of truth, so writes are applied here and
// there is no store to follow or to feed back.
#include <utility>

#include "record_source.hpp"

namespace progress {
namespace {

class EmbeddedRecords final : public RecordSource {
 public:
  explicit EmbeddedRecords(Registry& registry) : registry_(registry) {}

  // Every record there is, is here: an unknown one is pending at once.
  bool hold(ConnId, const Subscribe&) override { return false; }
  void unsubscribed(ConnId, const std::string&) override {}
  void listeners_changed(const std::string&) override {}
  void remove_connection(ConnId conn) override { registry_.remove_subscriber(conn); }

  std::optional<Result<Fanout>> publish(std::optional<ConnId>, Publish&& publish, Now now) override {
    return registry_.publish(std::move(publish), now);
  }
  Result<Created> create(std::optional<std::string> process_id, Now now) override {
    return registry_.create(std::move(process_id), now);
  }
  // The registry expires its own leases: it reports none.
  void lapsed(std::vector<std::string>) override {}

  // No store sends anything, and none is asked for anything.
  Loaded ingest_record(const std::string&, std::optional<ProcessRecord>, Now) override { return {}; }
  Fanout ingest_change(SharedChange, Now) override { return {}; }
  std::vector<StoreRequest> poll_store_requests() override { return {}; }
  std::vector<std::string> watched() const override { return {}; }

 private:
  Registry& registry_;
};

}  // namespace

std::unique_ptr<RecordSource> embedded_records(Registry& registry) {
  return std::make_unique<EmbeddedRecords>(registry);
}

}  // namespace progress
