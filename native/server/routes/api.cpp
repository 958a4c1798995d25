#include "routes/api.hpp"

#include <string>

#include "progress/codec.hpp"

namespace progress::server {
namespace {

constexpr std::string_view kCollection = "/api/processes";

bool blank(std::string_view body) {
  return body.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

string_response create_process(server_context& ctx, const request& req) {
  std::optional<std::string> id;
  if (!blank(req.body())) {
    const Json body = Json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return error_response(req, ErrorCode::bad_frame, "the body must be a JSON object like {\"process_id\": \"...\"}");
    }
    if (const auto it = body.find("process_id"); it != body.end() && !it->is_null()) {
      if (!it->is_string()) return error_response(req, ErrorCode::bad_frame, "process_id must be a string");
      id = it->get<std::string>();
      if (!is_valid_process_id(*id)) {
        return error_response(req, ErrorCode::invalid_process_id,
                              "process_id must match ^[A-Za-z0-9._:-]{1,128}$");
      }
    }
  }
  const bool existed = id && ctx.hub.snapshot(*id).has_value();
  auto created = ctx.hub.create_process(std::move(id));
  if (!created) return error_response(req, created.error());
  return json_response(req, existed ? http::status::ok : http::status::created, to_json(created.value()));
}

string_response get_process(server_context& ctx, const request& req, std::string_view id) {
  const auto snapshot = ctx.hub.snapshot(id);
  if (!snapshot) {
    Error error;
    error.code = ErrorCode::not_found;
    error.message = "no process " + std::string(id);
    error.process_id = std::string(id);
    return error_response(req, error);
  }
  return json_response(req, http::status::ok, to_json(*snapshot));
}

string_response publish_progress(server_context& ctx, const request& req, std::string_view id) {
  auto publish = decode_publish_body(req.body(), id);
  if (!publish) return error_response(req, publish.error());
  const auto ack = ctx.hub.publish(publish.value());
  if (!ack) return error_response(req, ack.error());
  return json_response(req, http::status::ok,
                       Json{{"process_id", ack.value().process_id}, {"seq", ack.value().seq}});
}

}  // namespace

string_response handle_processes_api(server_context& ctx, const request& req, std::string_view path) {
  if (path == kCollection || path == "/api/processes/") {
    if (req.method() != http::verb::post) return method_not_allowed(req, "POST");
    return create_process(ctx, req);
  }
  auto rest = path.substr(kCollection.size() + 1);  // after "/api/processes/"
  const auto slash = rest.find('/');
  const auto id = rest.substr(0, slash);
  const auto tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (tail.empty()) {
    if (req.method() != http::verb::get && req.method() != http::verb::head) return method_not_allowed(req, "GET");
  } else if (tail == "/progress") {
    if (req.method() != http::verb::post) return method_not_allowed(req, "POST");
  } else {
    return not_found(req);
  }
  if (!is_valid_process_id(id)) {
    return error_response(req, ErrorCode::invalid_process_id,
                          "process id must match ^[A-Za-z0-9._:-]{1,128}$");
  }
  return tail.empty() ? get_process(ctx, req, id) : publish_progress(ctx, req, id);
}

}  // namespace progress::server
