#include "routes/router.hpp"

#include <system_error>

#include "routes/api.hpp"
#include "http/static_files.hpp"
#include "http/url_query.hpp"

namespace progress::server {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

routed_response serve_static(server_context& ctx, const request& req, std::string_view path) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return make_routed(method_not_allowed(req, "GET, HEAD"));
  }
  auto file = resolve_static_path(ctx.config.web_root, path);
  if (!file) return make_routed(not_found(req));
  std::error_code ec;
  if (std::filesystem::is_directory(*file, ec)) *file /= "index.html";
  http::file_body::value_type body;
  beast::error_code open_ec;
  body.open(file->c_str(), beast::file_mode::scan, open_ec);
  if (open_ec) return make_routed(not_found(req));
  const auto size = body.size();
  http::response<http::file_body> res{http::status::ok, req.version()};
  res.set(http::field::server, "progress-hub");
  res.set(http::field::content_type, mime_type(file->string()));
  res.keep_alive(req.keep_alive());
  if (req.method() == http::verb::head) {
    string_response head{http::status::ok, req.version()};
    head.set(http::field::server, "progress-hub");
    head.set(http::field::content_type, mime_type(file->string()));
    head.content_length(size);
    head.keep_alive(req.keep_alive());
    return make_routed(std::move(head));
  }
  res.body() = std::move(body);
  res.content_length(size);
  return make_routed(std::move(res));
}

}  // namespace

std::string route_label(std::string_view path) {
  if (path == "/healthz") return "healthz";
  if (path == "/metrics") return "metrics";
  if (path == "/api/uploads") return "uploads";
  if (path == "/api/processes" || path == "/api/processes/") return "processes";
  if (starts_with(path, "/api/processes/")) {
    return path.size() > 9 && path.substr(path.size() - 9) == "/progress" ? "process_progress" : "process";
  }
  if (starts_with(path, "/sse/")) return "sse";
  if (starts_with(path, "/ws/")) return "ws";
  if (starts_with(path, "/api/")) return "api_other";
  return "static";
}

// /api/processes is not here: its answers may come later, so http_session calls the api directly; nor
// is /api/uploads, whose body http_session streams to disk (routes/uploads.hpp).
routed_response handle_request(server_context& ctx, request&& req) {
  const auto path = split_target(req.target()).path;
  if (path == "/healthz") {
    if (req.method() != http::verb::get && req.method() != http::verb::head) return make_routed(method_not_allowed(req, "GET"));
    return make_routed(json_response(req, http::status::ok,
                                     Json{{"status", ctx.hub.stopping() ? "stopping" : "ok"},
                                          {"connections", ctx.hub.open_streams()}}));
  }
  if (path == "/metrics") {
    if (req.method() != http::verb::get) return make_routed(method_not_allowed(req, "GET"));
    return make_routed(make_response(req, http::status::ok, render_metrics(ctx.hub, ctx.metrics),
                                     "text/plain; version=0.0.4; charset=utf-8"));
  }
  // Streaming paths reach here only when the request is not an upgrade / the method is wrong.
  if (starts_with(path, "/ws/") || path == "/ws") {
    return make_routed(error_response(req, ErrorCode::bad_frame, "this endpoint needs a WebSocket upgrade"));
  }
  if (starts_with(path, "/api/") || starts_with(path, "/sse/")) return make_routed(not_found(req));
  return serve_static(ctx, req, path);
}

}  // namespace progress::server
