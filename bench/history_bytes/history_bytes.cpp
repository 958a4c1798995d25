// Heap bytes one process's resume history holds: 256 events after a first publish with a large
// `message` and `data`, then either percent-only updates (unchanged message/data) or a new
// message and data every time. Counts every allocation through a replaced operator new, so it
// measures the core as built, with no estimate of its own. Built by hand (bench/README.md):
//   g++ -std=c++20 -O2 -I core/include bench/history_bytes/history_bytes.cpp \
//       core/src/process_record.cpp core/src/protocol.cpp -o /tmp/history_bytes
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "progress/process_record.hpp"

namespace {
std::size_t live_bytes = 0;
}

void* operator new(std::size_t size) {
  live_bytes += size;
  auto* block = static_cast<std::size_t*>(std::malloc(size + sizeof(std::size_t)));
  if (block == nullptr) throw std::bad_alloc();
  *block = size;
  return block + 1;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  auto* block = static_cast<std::size_t*>(p) - 1;
  live_bytes -= *block;
  std::free(block);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace {

progress::Publish large(int salt) {
  progress::Publish p;
  p.process_id = "bench-process";
  p.percent = salt / 4.0;
  p.message = std::string(2000, 'm') + std::to_string(salt);
  progress::Json data = progress::Json::object();
  for (int k = 0; k < 60; ++k) data["key" + std::to_string(k)] = std::string(40, static_cast<char>('a' + (salt + k) % 26));
  p.data = std::move(data);
  return p;
}

std::size_t per_event(bool change_every_time) {
  const std::size_t before = live_bytes;
  {
    progress::ProcessRecord record("bench-process", "e1", 0, 256);
    for (int i = 0; i < 256; ++i) {
      progress::Publish p = i == 0 || change_every_time ? large(i) : progress::Publish{};
      p.process_id = "bench-process";
      p.percent = i / 4.0;
      if (!record.apply(std::move(p), i).ok()) std::abort();
    }
    const std::size_t held = live_bytes - before;
    return held / 256;
  }
}

}  // namespace

int main() {
  std::printf("unchanged message/data: %zu bytes per event\n", per_event(false));
  std::printf("new message/data each:  %zu bytes per event\n", per_event(true));
}
