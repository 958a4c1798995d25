#include "routes/api.hpp"

#include <iterator>
#include <optional>
#include <string>
#include <utility>

#include "progress/codec.hpp"
#include "progress/idempotency.hpp"
#include "progress/limits.hpp"
#include "progress/target.hpp"
#include "http/url_query.hpp"

namespace progress::server {
namespace {

constexpr std::string_view kCollection = "/api/processes";

bool blank(std::string_view body) {
  return body.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

using respond = std::function<void(string_response)>;

// The `Idempotency-Key` header is the HTTP spelling of the body's `idempotency_key`: either may
// carry the key, and when both do they must agree (a client that sends two different keys has a
// bug that picking one would hide).
std::optional<Error> take_idempotency_header(const request& req, Publish& publish) {
  const auto headers = req.equal_range("Idempotency-Key");
  if (headers.first == headers.second) return std::nullopt;
  auto refuse = [&](std::string message) {
    return Error{ErrorCode::invalid_update, std::move(message), publish.process_id, publish.id};
  };
  if (std::next(headers.first) != headers.second) return refuse("send one Idempotency-Key header");
  const std::string key(headers.first->value());
  if (!is_valid_idempotency_key(key)) {
    return refuse("the Idempotency-Key header must be 1 to " + std::to_string(limits::kMaxIdempotencyKeyLength) +
                  " visible ASCII characters (no spaces)");
  }
  if (publish.idempotency_key && *publish.idempotency_key != key) {
    return refuse("`idempotency_key` in the body must equal the Idempotency-Key header");
  }
  publish.idempotency_key = key;
  return std::nullopt;
}

void create_process(server_context& ctx, const std::shared_ptr<const request>& req, const respond& done) {
  std::optional<std::string> id;
  if (!blank(req->body())) {
    const Json body = Json::parse(req->body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return done(error_response(*req, ErrorCode::bad_frame,
                                 "the body must be a JSON object like {\"process_id\": \"...\"}"));
    }
    if (const auto it = body.find("process_id"); it != body.end() && !it->is_null()) {
      if (!it->is_string()) return done(error_response(*req, ErrorCode::bad_frame, "process_id must be a string"));
      id = it->get<std::string>();
      if (!is_valid_process_id(*id)) return done(error_response(*req, invalid_process_id_error(*id)));
    }
  }
  ctx.records.create_process(std::move(id), [req, done](Result<Snapshot> created, bool is_new) {
    if (!created) return done(error_response(*req, created.error()));
    done(json_response(*req, is_new ? http::status::created : http::status::ok, to_json(created.value())));
  });
}

void get_process(server_context& ctx, const std::shared_ptr<const request>& req, std::string_view id,
                 const respond& done) {
  ctx.records.get_process(std::string(id), [req, done, id = std::string(id)](Result<std::optional<Snapshot>> found) {
    if (!found) return done(error_response(*req, found.error()));
    if (!found.value()) {
      Error error;
      error.code = ErrorCode::not_found;
      error.message = "no process " + id;
      error.process_id = id;
      return done(error_response(*req, error));
    }
    done(json_response(*req, http::status::ok, to_json(*found.value())));
  });
}

void publish_progress(server_context& ctx, const std::shared_ptr<const request>& req, std::string_view id,
                      const respond& done) {
  auto publish = decode_publish_body(req->body(), id);
  if (!publish) return done(error_response(*req, publish.error()));
  if (auto refused = take_idempotency_header(*req, publish.value())) return done(error_response(*req, *refused));
  ctx.records.publish(std::move(publish.value()), [req, done](Result<Ack> ack) {
    if (!ack) return done(error_response(*req, ack.error()));
    done(json_response(*req, http::status::ok, Json{{"process_id", ack.value().process_id}, {"seq", ack.value().seq}}));
  });
}

}  // namespace

bool is_processes_api(std::string_view path) {
  return path == kCollection || (path.size() > kCollection.size() && path.substr(0, kCollection.size() + 1) == "/api/processes/");
}

void handle_processes_api(server_context& ctx, std::shared_ptr<const request> req,
                          std::function<void(string_response)> done) {
  const std::string target(req->target());
  const auto path = split_target(target).path;
  if (path == kCollection || path == "/api/processes/") {
    if (req->method() != http::verb::post) return done(method_not_allowed(*req, "POST"));
    return create_process(ctx, req, done);
  }
  auto rest = path.substr(kCollection.size() + 1);  // after "/api/processes/"
  const auto slash = rest.find('/');
  const auto id = rest.substr(0, slash);
  const auto tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (tail.empty()) {
    if (req->method() != http::verb::get && req->method() != http::verb::head) {
      return done(method_not_allowed(*req, "GET"));
    }
  } else if (tail == "/progress") {
    if (req->method() != http::verb::post) return done(method_not_allowed(*req, "POST"));
  } else {
    return done(not_found(*req));
  }
  if (!is_valid_process_id(id)) {
    // `[object Object]` arrives percent-encoded; decoded, it gets the unset-value message.
    const std::string decoded = percent_decode(id).value_or(std::string(id));
    return done(error_response(*req, invalid_process_id_error(is_unset_value_id(decoded) ? decoded : id)));
  }
  if (tail.empty()) return get_process(ctx, req, id, done);
  publish_progress(ctx, req, id, done);
}

}  // namespace progress::server
