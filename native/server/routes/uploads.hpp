#pragma once
// POST /api/uploads: stores the body (raw or multipart `file` field), creates the process and
// queues the document job; answers 202 {process_id} before the job runs.
#include "responses.hpp"
#include "server_context.hpp"

namespace progress::server {

string_response handle_upload(server_context& ctx, const request& req);

}  // namespace progress::server
