#pragma once
// POST /api/uploads in two steps around the body: what the header decides (method, engine, a query
// process_id, where the body goes), then, with the body on disk, the process and its document job.
// Answers 202 {process_id} before the job runs.
#include <memory>
#include <optional>

#include "responses.hpp"
#include "server_context.hpp"
#include "upload_sink.hpp"

namespace progress::server {

// A refusal, or nullopt with `sink` set to where the body is to be written.
std::optional<string_response> begin_upload(server_context& ctx, const request& header,
                                            std::unique_ptr<upload_sink>& sink);

// The body is in `sink`'s file: create the process and queue the job (which then owns the file).
string_response finish_upload(server_context& ctx, const request& req, upload_sink& sink);

}  // namespace progress::server
