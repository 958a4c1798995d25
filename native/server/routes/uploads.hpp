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

// An upload whose header was accepted: where its body is written, and the quota place it holds
// from the header until its job ends (an empty ticket when the hub has no quota).
struct upload_in_progress {
  std::unique_ptr<upload_sink> sink;
  upload_quota::ticket quota;
};

// What the header decides, before any of the body is read: a refusal, or nullopt with `upload`
// set. `peer`: the client's IP address for the per-address quota; empty: unknown (only the total
// applies).
std::optional<string_response> begin_upload(server_context& ctx, const request& header, std::string_view peer,
                                            std::unique_ptr<upload_in_progress>& upload);

// The body is in the sink's file: create the process and queue the job (which then owns the file
// and the quota place).
string_response finish_upload(server_context& ctx, const request& req, upload_in_progress& upload);

// The answer to an upload over quota: 429 for the client's own limit, 503 when the hub as a whole
// holds its most uploads; both name the limit and say when to retry.
string_response upload_quota_response(const request& req, const quota_refusal& refusal);

}  // namespace progress::server
