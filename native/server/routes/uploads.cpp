#include "routes/uploads.hpp"

#include <string>

#include "multipart.hpp"
#include "url_query.hpp"

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

}  // namespace

std::optional<string_response> begin_upload(server_context& ctx, const request& header,
                                            std::unique_ptr<upload_sink>& sink) {
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
  auto boundary = multipart_boundary(header[http::field::content_type]);
  const auto file = ctx.data_dir / (std::to_string(++ctx.uploads_stored) + ".upload");
  std::string error;
  sink = upload_sink::create(file, std::move(boundary), error);
  if (!sink) {
    ctx.log.error("upload_store_failed", {{"path", file.string()}, {"error", error}});
    return error_response(header, ErrorCode::unavailable, "the server could not store the upload");
  }
  return std::nullopt;
}

string_response finish_upload(server_context& ctx, const request& req, upload_sink& sink) {
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
  if (!ctx.uploads.submit(id, sink.file())) {
    return error_response(req, ErrorCode::unavailable, "too many uploads are waiting; retry later");
  }
  sink.keep();
  ++ctx.metrics.uploads_accepted;
  ctx.metrics.upload_bytes += sink.file_bytes();
  ctx.log.info("upload_accepted", {{"process_id", id}, {"bytes", std::to_string(sink.file_bytes())}});
  return json_response(req, http::status::accepted, Json{{"process_id", id}});
}

}  // namespace progress::server
