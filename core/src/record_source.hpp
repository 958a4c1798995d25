#pragma once
// Where the Hub's records come from. The source is chosen once, when the Hub is built
// (HubConfig::records_are_external), and the Hub never asks which one it has: it calls the source
// once per subscribe, unsubscribe, closed connection, write, timer tick or store input, never per
// subscriber of an event, so fan-out stays the Hub's loop over the registry's subscriber list.
// Both sources keep their records in the Registry the Hub fans out from; they differ in who writes
// them.
//
//   embedded  the Registry holds the records of truth: creates and publishes are applied to it and
//             its timers expire leases. Nothing is asked of the driver and nothing comes back.
//   mirrored  a shared store (the server's Redis engine) holds them. Writes leave as StoreRequests
//             (Hub::poll_store_requests); the Registry mirrors only the processes local subscribers
//             watch, fed by the driver's loads (ingest_record) and change notices (ingest_change).
//             A subscriber to a process not yet mirrored waits for its load.
//
// Room for the record's next fields: a weighted stage plan is a ProcessRecord field and an apply
// rule, carried by both sources unchanged (the mirror receives whole records). Parent/child
// aggregation makes one write change two records: `publish` then returns the parent's fan-out as
// well (embedded), or the store's script writes both and both changes come back (mirrored). A
// cancel request is a new write: a method here beside `publish`, and a StoreRequest alternative for
// the mirror. Group membership widens what a subscriber holds and what the mirror follows: a group
// key beside the process id in `hold` and in InterestChange.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "progress/hub.hpp"
#include "progress/registry.hpp"

namespace progress {

// A subscription whose answer waits for the store's record.
struct HeldSubscribe {
  ConnId conn = 0;
  Subscribe subscribe;
};

// What a load changed: the fan-out to the subscribers already here, and the held subscriptions the
// Hub now answers (it subscribes each again, against the loaded record).
struct Loaded {
  Fanout fanout;
  std::vector<HeldSubscribe> held;
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;

  // True when the answer to `subscribe` must wait for the store: it is held until ingest_record.
  virtual bool hold(ConnId conn, const Subscribe& subscribe) = 0;
  // After Registry::unsubscribe: drops a held subscription and stops following a process nobody
  // here listens to any more.
  virtual void unsubscribed(ConnId conn, const std::string& process_id) = 0;
  // `process_id` may have lost its last listener or waiter (a pending timeout, a load answered).
  virtual void listeners_changed(const std::string& process_id) = 0;
  // Instead of Registry::remove_subscriber: the connection's subscriptions and held ones go.
  virtual void remove_connection(ConnId conn) = 0;

  // A publish that passed validate(), from a /ws/publish connection or (no `from`) the HTTP API.
  // nullopt: handed to the store; Hub::complete_publish answers it. Without `from` there is an answer.
  virtual std::optional<Result<Fanout>> publish(std::optional<ConnId> from, Publish&& publish, Now now) = 0;
  // An id that passed is_valid_process_id, or none for a generated one.
  virtual Result<Created> create(std::optional<std::string> process_id, Now now) = 0;
  // The registry's tick found these leases (or idle times) run out (RegistryConfig::report_leases).
  virtual void lapsed(std::vector<std::string> process_ids) = 0;

  // The store's inputs and the work it is asked to do.
  virtual Loaded ingest_record(const std::string& process_id, std::optional<ProcessRecord> record, Now now) = 0;
  virtual Fanout ingest_change(SharedChange change, Now now) = 0;
  virtual std::vector<StoreRequest> poll_store_requests() = 0;
  virtual std::vector<std::string> watched() const = 0;
};

std::unique_ptr<RecordSource> embedded_records(Registry& registry);
std::unique_ptr<RecordSource> mirrored_records(Registry& registry);

}  // namespace progress
