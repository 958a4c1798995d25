#include "app/allocator.hpp"

#include <cstdlib>

#ifdef PROGRESS_WITH_MIMALLOC
#include <mimalloc.h>
#endif

namespace progress::server {

std::string allocator_description() {
#ifdef PROGRESS_WITH_MIMALLOC
  // A block from the C allocator lies in mimalloc's heap only if malloc resolves to mimalloc's; a link
  // order that put glibc first would keep the library loaded and unused.
  void* probe = std::calloc(1, 64);  // not malloc: GCC warns when an uninitialised block is passed on
  const bool in_use = mi_is_in_heap_region(probe);
  std::free(probe);
  const int v = mi_version();  // major, then two digits of minor and patch: 209 is 2.0.9
  const std::string version =
      std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." + std::to_string(v % 10);
  if (!in_use) return "glibc malloc (mimalloc " + version + " linked but not in use)";
  return "mimalloc " + version;
#else
  return "glibc malloc";
#endif
}

}  // namespace progress::server
