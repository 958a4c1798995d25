#pragma once
// Building HTTP responses: JSON bodies, the protocol's JSON errors, common headers.
#include <string>
#include <string_view>

#include "base/net.hpp"
#include "progress/protocol.hpp"

namespace progress::server {

using request = http::request<http::string_body>;
using string_response = http::response<http::string_body>;

string_response make_response(const request& req, http::status status, std::string body,
                              std::string_view content_type);
string_response json_response(const request& req, http::status status, const Json& body);
// {"error":{"code","message"}} with the status DESIGN.md gives the code.
string_response error_response(const request& req, const Error& error);
string_response error_response(const request& req, ErrorCode code, std::string message);
// The same body under a status of its own, for HTTP-level refusals (414, 431, 501) whose code is
// shared with a more common status.
string_response error_response(const request& req, http::status status, ErrorCode code, std::string message);
// 405 with an Allow header; the body uses the `bad_frame` code (the request is malformed for
// this resource) and says which methods are allowed.
string_response method_not_allowed(const request& req, std::string_view allow);
string_response not_found(const request& req);

}  // namespace progress::server
