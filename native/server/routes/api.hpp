#pragma once
// The process API: POST /api/processes, GET /api/processes/{id}, POST /api/processes/{id}/progress.
#include <string_view>

#include "responses.hpp"
#include "server_context.hpp"

namespace progress::server {

// `path` starts with /api/processes.
string_response handle_processes_api(server_context& ctx, const request& req, std::string_view path);

}  // namespace progress::server
