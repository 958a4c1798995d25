#pragma once
// Runs a hiredis async context on the server's io_context: hiredis says when it wants to read or
// write (its ev hooks), Asio waits for the socket's readiness and calls back into hiredis. All on
// the io_context thread; nothing blocks.
#include "base/net.hpp"

struct redisAsyncContext;

namespace progress::server {

// Hooks `context` to `ioc` until hiredis frees the context (its cleanup hook detaches). False when
// the context already failed (it is then still the caller's to free).
bool attach_to_asio(redisAsyncContext* context, net::io_context& ioc);

}  // namespace progress::server
