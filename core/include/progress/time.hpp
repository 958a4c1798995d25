#pragma once
// Time enters the core only as values passed in by the caller; nothing here reads a clock.
#include <cstdint>

namespace progress {

// Milliseconds. The server passes wall-clock milliseconds since the Unix epoch (they end up in
// `updated_at`/`ts` fields); the client session passes whatever its host clock gives (Date.now()).
using Millis = std::int64_t;

}  // namespace progress
