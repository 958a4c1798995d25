#pragma once
// Generated process ids: anyone who knows an id can subscribe to it (unless tokens are required),
// so ids must not follow from one another. 128 bits from the OS CSPRNG, apart from the seeded
// stream that draws record epochs.
#include <string>

namespace progress::server {

// "proc_" + 32 lowercase hex digits; empty when the CSPRNG fails (the hub then answers 503).
std::string random_process_id();

}  // namespace progress::server
