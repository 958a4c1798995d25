#pragma once
// The process API: POST /api/processes, GET /api/processes/{id}, POST /api/processes/{id}/progress.
// It goes through the engine, so an answer may come later (the Redis engine); `done` is called
// once, on the io_context thread.
#include <functional>
#include <memory>
#include <string_view>

#include "http/responses.hpp"
#include "routes/server_context.hpp"

namespace progress::server {

bool is_processes_api(std::string_view path);

void handle_processes_api(server_context& ctx, std::shared_ptr<const request> req,
                          std::function<void(string_response)> done);

}  // namespace progress::server
