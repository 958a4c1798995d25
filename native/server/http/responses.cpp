#include "http/responses.hpp"

#include "progress/codec.hpp"

namespace progress::server {

string_response make_response(const request& req, http::status status, std::string body,
                              std::string_view content_type) {
  string_response res{status, req.version()};
  res.set(http::field::server, "progress-hub");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

string_response json_response(const request& req, http::status status, const Json& body) {
  return make_response(req, status, body.dump(), "application/json");
}

string_response error_response(const request& req, const Error& error) {
  return make_response(req, static_cast<http::status>(http_status(error.code)), encode_http_error(error),
                       "application/json");
}

string_response error_response(const request& req, ErrorCode code, std::string message) {
  Error error;
  error.code = code;
  error.message = std::move(message);
  return error_response(req, error);
}

string_response error_response(const request& req, http::status status, ErrorCode code, std::string message) {
  Error error;
  error.code = code;
  error.message = std::move(message);
  return make_response(req, status, encode_http_error(error), "application/json");
}

string_response method_not_allowed(const request& req, std::string_view allow) {
  Error error;
  error.code = ErrorCode::bad_frame;
  error.message = "method " + std::string(req.method_string()) + " is not allowed here; allowed: " +
                  std::string(allow);
  auto res = make_response(req, http::status::method_not_allowed, encode_http_error(error), "application/json");
  res.set(http::field::allow, allow);
  return res;
}

string_response not_found(const request& req) {
  Error error;
  error.code = ErrorCode::not_found;
  error.message = "no resource at " + std::string(req.target());
  return make_response(req, http::status::not_found, encode_http_error(error), "application/json");
}

}  // namespace progress::server
