#pragma once
// Invariant checks for the fuzz targets: a violated invariant must reach libFuzzer as a crash
// (so it saves the input), with the reason printed; assert() would vanish under NDEBUG.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace progress::fuzz {

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "invariant violated: %.*s %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// PROGRESS_FUZZ_TRACE=1 when re-running one input prints each step, to turn a crash into a
// readable reproducer (vector case or unit test).
inline bool tracing() {
  static const bool on = std::getenv("PROGRESS_FUZZ_TRACE") != nullptr;
  return on;
}

inline void trace(std::string_view line) {
  if (tracing()) std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

inline void check(bool condition, std::string_view what, std::string_view detail = {}) {
  if (!condition) fail(what, detail);
}

}  // namespace progress::fuzz
