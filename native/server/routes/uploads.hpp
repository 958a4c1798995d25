#pragma once
// POST /api/uploads in two steps around the body: what the header decides (method, engine, a query
// process_id, where the body goes), then, with the body on disk, the process and its document job.
// Answers 202 {process_id} before the job runs.
#include <memory>
#include <optional>
#include <string_view>

#include "http/responses.hpp"
#include "routes/server_context.hpp"
#include "jobs/upload_quota.hpp"
#include "http/upload_sink.hpp"

namespace progress::server {

// A refusal, or nullopt with `sink` set to where the body is to be written.
std::optional<string_response> begin_upload(server_context& ctx, const request& header,
                                            std::unique_ptr<upload_sink>& sink);

// The body is in `sink`'s file: create the process and queue the job (which then owns the file).
// `peer`: the client's IP address for the per-address upload quota; empty: unknown (only the total
// applies).
string_response finish_upload(server_context& ctx, const request& req, upload_sink& sink,
                              std::string_view peer = {});

// The answer to an upload over quota: 429 for the client's own limit, 503 when the hub as a whole
// holds its most uploads; both name the limit and say when to retry.
string_response upload_quota_response(const request& req, const quota_refusal& refusal);

}  // namespace progress::server
