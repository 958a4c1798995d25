#include "routes/uploads.hpp"

#include <chrono>
#include <string>
#include <variant>

#include "http/multipart.hpp"
#include "http/url_query.hpp"

namespace progress::server {
namespace {

// An id the request chose that cannot take an upload: malformed, or its process already has a job.
std::optional<string_response> refuse_chosen_id(server_context& ctx, const request& req, const std::string& id) {
  if (!is_valid_process_id(id)) {
    return error_response(req, invalid_process_id_error(id));
  }
  // A page may create the id first (POST /api/processes) and then upload; anything further along
  // already has a job.
  if (const auto existing = ctx.hub.snapshot(id); existing && existing->state != State::pending) {
    Error error;
    error.code = ErrorCode::process_finished;
    error.message = "process " + id + " already has a job (state " + std::string(to_string(existing->state)) +
                    "); choose a new id";
    error.process_id = id;
    return error_response(req, error);
  }
  return std::nullopt;
}

// Seconds a refused uploader is told to wait: about one short document job.
constexpr int kQuotaRetryAfterSeconds = 5;

}  // namespace

string_response upload_quota_response(const request& req, const quota_refusal& refusal) {
  const bool own = refusal.which == quota_refusal::limit::per_address;
  const ErrorCode code = own ? ErrorCode::rate_limited : ErrorCode::unavailable;
  const Json body = {{"error",
                      {{"code", to_string(code)},
                       {"message", refusal.message},
                       {"limit", own ? "max_uploads_per_address" : "max_uploads"},
                       {"max", refusal.max}}}};
  auto res = json_response(req, own ? http::status::too_many_requests : http::status::service_unavailable, body);
  res.set(http::field::retry_after, std::to_string(kQuotaRetryAfterSeconds));
  return res;
}

std::optional<string_response> begin_upload(server_context& ctx, const request& header, std::string_view peer,
                                            std::unique_ptr<upload_in_progress>& upload) {
  if (header.method() != http::verb::post) return method_not_allowed(header, "POST");
  if (!ctx.records.runs_upload_jobs()) {
    return error_response(header, ErrorCode::unavailable,
                          "uploads run the built-in document job, which needs the embedded engine (no --redis)");
  }
  const auto query = split_target(header.target()).query;
  if (query_has(query, "process_id")) {
    const auto id = query_param(query, "process_id");
    if (!id) return error_response(header, ErrorCode::invalid_process_id, "process_id is badly encoded");
    if (auto refused = refuse_chosen_id(ctx, header, *id)) return refused;
  }
  // The quota is decided on the header: a client over it never gets a byte of its body written.
  upload_quota::ticket quota;
  if (ctx.upload_limits != nullptr) {
    auto admitted = ctx.upload_limits->admit(peer, std::chrono::steady_clock::now());
    if (const auto* refusal = std::get_if<quota_refusal>(&admitted)) {
      ctx.log.info("upload_refused", {{"limit", refusal->which == quota_refusal::limit::per_address
                                                     ? "max_uploads_per_address"
                                                     : "max_uploads"}});
      return upload_quota_response(header, *refusal);
    }
    quota = std::move(std::get<upload_quota::ticket>(admitted));
  }
  auto boundary = multipart_boundary(header[http::field::content_type]);
  const auto file = ctx.data_dir / (std::to_string(++ctx.uploads_stored) + kUploadFileExtension);
  std::string error;
  auto sink = upload_sink::create(file, std::move(boundary), error);
  if (!sink) {
    ctx.log.error("upload_store_failed", {{"path", file.string()}, {"error", error}});
    return error_response(header, ErrorCode::unavailable, "the server could not store the upload");
  }
  upload = std::make_unique<upload_in_progress>(upload_in_progress{std::move(sink), std::move(quota)});
  return std::nullopt;
}

string_response finish_upload(server_context& ctx, const request& req, upload_in_progress& upload) {
  upload_sink& sink = *upload.sink;
  std::optional<std::string> process_id;
  const auto query = split_target(req.target()).query;
  if (query_has(query, "process_id")) process_id = query_param(query, "process_id");
  if (!process_id) process_id = sink.form_process_id();
  if (sink.file_bytes() == 0) return error_response(req, ErrorCode::bad_frame, "the upload is empty");
  // Checked again: the form's id arrives with the body, and the query's record may have moved on.
  if (process_id) {
    if (auto refused = refuse_chosen_id(ctx, req, *process_id)) return *refused;
  }
  auto created = ctx.hub.create_process(process_id);
  if (!created) return error_response(req, created.error());
  const std::string id = created.value().process_id;
  upload.quota.record(id);
  if (!ctx.uploads.submit(id, sink.file(), std::move(upload.quota))) {
    return error_response(req, ErrorCode::unavailable, "too many uploads are waiting; retry later");
  }
  sink.keep();
  ++ctx.metrics.uploads_accepted;
  ctx.metrics.upload_bytes += sink.file_bytes();
  ctx.log.info("upload_accepted", {{"process_id", id}, {"bytes", std::to_string(sink.file_bytes())}});
  return json_response(req, http::status::accepted, Json{{"process_id", id}});
}

}  // namespace progress::server
