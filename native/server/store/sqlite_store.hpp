#pragma once
// Process records in SQLite (<data-dir>/progress.db): one row per record holding its stored JSON
// (progress/record_store.hpp), a clean-shutdown marker, and the schema version in user_version.
// WAL journal; synchronous=NORMAL survives a crash of the process (the WAL is in the OS's page
// cache) but not a power cut, synchronous=FULL (`--durability full`) survives both. The database is
// opened in exclusive locking mode, so a second hub on the same data dir is refused at start.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "progress/record_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace progress::server {

enum class durability_level { normal, full };

struct loaded_records {
  std::vector<StoredRecord> records;
  bool clean_shutdown = true;  // the last run flushed everything and said so
  std::size_t unreadable = 0;  // rows that did not decode: left out (and logged by the caller)
};

class sqlite_store {
 public:
  static constexpr int kSchemaVersion = 1;
  static constexpr const char* kFileName = "progress.db";

  // nullptr and `error` (a sentence for the operator) when the file cannot be opened, is not a
  // progress-hub database, has a newer schema, or is in use by another hub.
  static std::unique_ptr<sqlite_store> open(const std::filesystem::path& file, durability_level level,
                                            std::string& error);
  ~sqlite_store();
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  // Every record and whether the last run ended cleanly; from here on the store counts as in use
  // (unclean) until mark_clean. nullopt and `error` on a read failure.
  std::optional<loaded_records> load(std::string& error);
  // One transaction: upserts and deletes. On failure nothing is written and `error` says why.
  bool write(const std::vector<RecordChange>& changes, std::string& error);
  // Everything is written: the next start may keep every epoch.
  bool mark_clean(std::string& error);

 private:
  struct statement_finalizer {
    void operator()(sqlite3_stmt* statement) const;
  };
  using statement = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

  explicit sqlite_store(sqlite3* db) : db_(db) {}
  bool prepare(std::string& error);
  bool exec(const char* sql, std::string& error);
  bool set_clean(bool clean, std::string& error);
  std::string last_error() const;

  sqlite3* db_;
  statement upsert_;
  statement remove_;
  statement set_meta_;
};

}  // namespace progress::server
