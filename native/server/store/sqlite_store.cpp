#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace progress::server {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE records(process_id TEXT PRIMARY KEY NOT NULL, record TEXT NOT NULL);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);";
constexpr const char* kCleanKey = "clean_shutdown";
// A hub that finds the database locked waits this long before refusing to start or to commit.
constexpr int kBusyTimeoutMs = 2000;

std::string column_text(sqlite3_stmt* statement, int column) {
  const auto* text = sqlite3_column_text(statement, column);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text));
}

// Runs `sql` (one statement returning one integer) and stores the value.
bool query_int(sqlite3* db, const char* sql, long long& out) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) return false;
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) out = sqlite3_column_int64(raw, 0);
  sqlite3_finalize(raw);
  return rc == SQLITE_ROW;
}

// The database holds every job's result: owner-only, whatever the umask. SQLite gives its -wal and
// -shm files the database file's mode, so creating that one 0600 is enough for new files; files of
// an older hub (0644) are narrowed here.
bool make_private(const std::filesystem::path& file, std::string& error) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0 || ::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
    error = "cannot make " + file.string() + " private (0600): " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  ::close(fd);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const std::string side = file.string() + suffix;
    if (::chmod(side.c_str(), S_IRUSR | S_IWUSR) != 0 && errno != ENOENT) {
      error = "cannot make " + side + " private (0600): " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

}  // namespace

void sqlite_store::statement_finalizer::operator()(sqlite3_stmt* statement) const {
  sqlite3_finalize(statement);
}

std::unique_ptr<sqlite_store> sqlite_store::open(const std::filesystem::path& file, durability_level level,
                                                 std::string& error) {
  if (!make_private(file, error)) return nullptr;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<sqlite_store> store(new sqlite_store(db));  // closes `db` on every early return
  if (rc != SQLITE_OK) {
    error = "cannot open " + file.string() + ": " + store->last_error();
    return nullptr;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  const std::string where = file.string() + ": ";
  long long version = 0;
  if (!store->exec("PRAGMA locking_mode=EXCLUSIVE", error) ||
      !query_int(db, "PRAGMA user_version", version)) {
    const int code = sqlite3_errcode(db);
    if (code == SQLITE_NOTADB) {
      error = where + "not a progress-hub database (" + store->last_error() +
              "); move it away or pick another --data-dir";
    } else if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      error = where + "in use by another progress-hub (" + store->last_error() + ")";
    } else {
      error = where + store->last_error();
    }
    return nullptr;
  }
  if (version > kSchemaVersion) {
    error = where + "written by a newer progress-hub (schema " + std::to_string(version) +
            ", this build knows " + std::to_string(kSchemaVersion) +
            "); upgrade progress-hub or pick another --data-dir";
    return nullptr;
  }
  long long tables = 0;
  if (!query_int(db, "SELECT count(*) FROM sqlite_master", tables)) {
    error = where + store->last_error();
    return nullptr;
  }
  if (version == 0 && tables > 0) {
    error = where + "holds tables of another application (no progress-hub schema); pick another --data-dir";
    return nullptr;
  }
  // The WAL switch takes the exclusive lock: a second hub fails here when the first one is running.
  const char* sync =
      level == durability_level::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
  if (!store->exec("PRAGMA journal_mode=WAL", error) || !store->exec(sync, error)) {
    const int code = sqlite3_errcode(db);
    error = where + (code == SQLITE_BUSY || code == SQLITE_LOCKED
                         ? "in use by another progress-hub (" + error + ")"
                         : error);
    return nullptr;
  }
  if (version == 0) {
    const std::string create = std::string("BEGIN IMMEDIATE;") + kSchema +
                               "PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";COMMIT;";
    if (!store->exec(create.c_str(), error)) {
      error = where + "cannot create the schema: " + error;
      return nullptr;
    }
  }
  if (!store->prepare(error)) {
    error = where + error;
    return nullptr;
  }
  return store;
}

sqlite_store::~sqlite_store() {
  upsert_.reset();
  remove_.reset();
  set_meta_.reset();
  sqlite3_close(db_);
}

std::optional<loaded_records> sqlite_store::load(std::string& error) {
  loaded_records loaded;
  {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key = ?", -1, &raw, nullptr) != SQLITE_OK) {
      error = last_error();
      return std::nullopt;
    }
    statement meta(raw);
    sqlite3_bind_text(raw, 1, kCleanKey, -1, SQLITE_STATIC);
    const int rc = sqlite3_step(raw);
    if (rc == SQLITE_ROW) {
      loaded.clean_shutdown = column_text(raw, 0) == "1";
    } else if (rc != SQLITE_DONE) {
      error = last_error();
      return std::nullopt;
    }
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT record FROM records", -1, &raw, nullptr) != SQLITE_OK) {
    error = last_error();
    return std::nullopt;
  }
  statement rows(raw);
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    auto record = decode_stored(column_text(raw, 0));
    if (record) {
      loaded.records.push_back(std::move(record.value()));
    } else {
      ++loaded.unreadable;
    }
  }
  if (rc != SQLITE_DONE) {
    error = last_error();
    return std::nullopt;
  }
  if (!set_clean(false, error)) return std::nullopt;
  return loaded;
}

bool sqlite_store::write(const std::vector<RecordChange>& changes, std::string& error) {
  if (!exec("BEGIN IMMEDIATE", error)) return false;
  for (const auto& change : changes) {
    sqlite3_stmt* step = change.record ? upsert_.get() : remove_.get();
    sqlite3_reset(step);
    sqlite3_bind_text(step, 1, change.process_id.data(), static_cast<int>(change.process_id.size()),
                      SQLITE_TRANSIENT);
    if (change.record) {
      const std::string text = encode_stored(*change.record);
      sqlite3_bind_text(step, 2, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    }
    if (sqlite3_step(step) != SQLITE_DONE) {
      error = last_error();
      sqlite3_reset(step);
      std::string ignored;
      exec("ROLLBACK", ignored);
      return false;
    }
  }
  if (exec("COMMIT", error)) return true;
  std::string ignored;
  exec("ROLLBACK", ignored);
  return false;
}

bool sqlite_store::mark_clean(std::string& error) { return set_clean(true, error); }

bool sqlite_store::prepare(std::string& error) {
  const auto make = [&](const char* sql, statement& out) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr) != SQLITE_OK) {
      error = last_error();
      return false;
    }
    out.reset(raw);
    return true;
  };
  return make(
             "INSERT INTO records(process_id, record) VALUES(?1, ?2) "
             "ON CONFLICT(process_id) DO UPDATE SET record = excluded.record",
             upsert_) &&
         make("DELETE FROM records WHERE process_id = ?1", remove_) &&
         make(
             "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = "
             "excluded.value",
             set_meta_);
}

bool sqlite_store::exec(const char* sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  error = message != nullptr ? message : last_error();
  sqlite3_free(message);
  return false;
}

bool sqlite_store::set_clean(bool clean, std::string& error) {
  sqlite3_reset(set_meta_.get());
  sqlite3_bind_text(set_meta_.get(), 1, kCleanKey, -1, SQLITE_STATIC);
  sqlite3_bind_text(set_meta_.get(), 2, clean ? "1" : "0", -1, SQLITE_STATIC);
  const int rc = sqlite3_step(set_meta_.get());
  sqlite3_reset(set_meta_.get());
  if (rc == SQLITE_DONE) return true;
  error = last_error();
  return false;
}

std::string sqlite_store::last_error() const {
  return db_ == nullptr ? "out of memory" : sqlite3_errmsg(db_);
}

}  // namespace progress::server
