#include "routes/uploads.hpp"

#include <fstream>
#include <optional>
#include <string>
#include <system_error>

#include "multipart.hpp"
#include "url_query.hpp"

namespace progress::server {
namespace {

struct upload_body {
  std::string_view file;
  std::optional<std::string> process_id;  // from the form, when the query had none
};

}  // namespace

string_response handle_upload(server_context& ctx, const request& req) {
  if (req.method() != http::verb::post) return method_not_allowed(req, "POST");
  if (!ctx.records.runs_upload_jobs()) {
    return error_response(req, ErrorCode::unavailable,
                          "uploads run the built-in document job, which needs the embedded engine (no --redis)");
  }

  std::optional<std::string> process_id;
  const auto query = split_target(req.target()).query;
  if (query_has(query, "process_id")) {
    process_id = query_param(query, "process_id");
    if (!process_id) return error_response(req, ErrorCode::invalid_process_id, "process_id is badly encoded");
  }

  upload_body upload{req.body(), std::nullopt};
  if (const auto boundary = multipart_boundary(req[http::field::content_type])) {
    const auto form = parse_multipart(req.body(), *boundary);
    if (!form.error.empty()) return error_response(req, ErrorCode::bad_frame, form.error);
    const form_part* file = nullptr;
    for (const auto& part : form.parts) {
      if (part.name == "file" && file == nullptr) file = &part;
      if (part.name == "process_id" && !process_id) upload.process_id = std::string(part.data);
    }
    if (file == nullptr) return error_response(req, ErrorCode::bad_frame, "the multipart upload has no `file` field");
    upload.file = file->data;
  }
  if (!process_id) process_id = upload.process_id;
  if (upload.file.empty()) return error_response(req, ErrorCode::bad_frame, "the upload is empty");
  if (process_id) {
    if (!is_valid_process_id(*process_id)) {
      return error_response(req, ErrorCode::invalid_process_id, "process_id must match ^[A-Za-z0-9._:-]{1,128}$");
    }
    // A page may create the id first (POST /api/processes) and then upload; anything further along
    // already has a job.
    if (const auto existing = ctx.hub.snapshot(*process_id); existing && existing->state != State::pending) {
      Error error;
      error.code = ErrorCode::process_finished;
      error.message = "process " + *process_id + " already has a job (state " +
                      std::string(to_string(existing->state)) + "); choose a new id";
      error.process_id = *process_id;
      return error_response(req, error);
    }
  }

  auto created = ctx.hub.create_process(process_id);
  if (!created) return error_response(req, created.error());
  const std::string id = created.value().process_id;

  const auto path = ctx.data_dir / (id + "." + std::to_string(++ctx.uploads_stored) + ".upload");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(upload.file.data(), static_cast<std::streamsize>(upload.file.size()));
    if (!out) {
      ctx.log.error("upload_store_failed", {{"process_id", id}, {"path", path.string()}});
      return error_response(req, ErrorCode::unavailable, "the server could not store the upload");
    }
  }
  if (!ctx.uploads.submit(id, path)) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    return error_response(req, ErrorCode::unavailable, "too many uploads are waiting; retry later");
  }
  ++ctx.metrics.uploads_accepted;
  ctx.metrics.upload_bytes += upload.file.size();
  ctx.log.info("upload_accepted", {{"process_id", id}, {"bytes", std::to_string(upload.file.size())}});
  return json_response(req, http::status::accepted, Json{{"process_id", id}});
}

}  // namespace progress::server
