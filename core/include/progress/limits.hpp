#pragma once
// Every bound of the protocol, named once. Options that a deployment may change live in the
// config structs (HubConfig, ClientConfig); these are the protocol's defaults and hard caps.
#include <cstddef>
#include <cstdint>

namespace progress::limits {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::size_t kMaxFrameBytes = 64 * 1024;     // inbound frame -> too_large, close 1009
inline constexpr std::size_t kMaxProcessIdLength = 128;
inline constexpr std::size_t kMaxStageLength = 128;
inline constexpr std::size_t kMaxMessageLength = 2048;
inline constexpr std::size_t kMaxEpochLength = 64;
inline constexpr std::size_t kMaxPublishIdLength = 128;
inline constexpr std::size_t kMaxIdempotencyKeyLength = 128;
inline constexpr std::size_t kIdempotencyKeysPerProcess = 1'000;  // the newest kept, per process
inline constexpr std::int64_t kIdempotencyKeyTtlMs = 10 * 60 * 1000;
inline constexpr std::size_t kMaxDataBytes = 4 * 1024;       // serialized `data` object
inline constexpr std::size_t kMaxResultBytes = 16 * 1024;    // serialized `result` / `error`
inline constexpr std::size_t kDefaultHistory = 256;          // events kept per process for resume
inline constexpr std::size_t kDefaultHistoryBytes = 256 * 1024;  // and their bytes (ProcessRecord R8)
inline constexpr std::size_t kDefaultHistoryBudgetBytes = 256 * 1024 * 1024;  // every process's together
inline constexpr std::int64_t kDefaultIdleTimeoutMs = 24LL * 3600 * 1000;    // no lease, no publish -> stalled
inline constexpr std::int64_t kDefaultHeartbeatMs = 20'000;
inline constexpr std::int64_t kStaleGraceMs = 10'000;        // silent for heartbeat + this -> stale
inline constexpr std::int64_t kMaxLeaseMs = 24LL * 3600 * 1000;

}  // namespace progress::limits
