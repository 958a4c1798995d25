#pragma once
// Which malloc the running server got. A release build links mimalloc (PROGRESS_MIMALLOC): the
// publish path makes about two dozen small allocations per publish, and glibc's malloc and free
// were a fifth of its instructions. Linking alone does not prove it is in use, so this checks.
#include <string>

namespace progress::server {

// "mimalloc 2.0.9", "glibc malloc", or a warning when mimalloc is linked but malloc is not its.
std::string allocator_description();

}  // namespace progress::server
