#pragma once
// The RFC 6455 opening handshake on a request the http_session has already parsed: which requests
// ask for a WebSocket, which of those are refused (and with what JSON error), and the 101 answer.
#include <optional>
#include <string>
#include <string_view>

#include "http/responses.hpp"

namespace progress::server {

// The handshake's headers, found in one pass over the request's fields: a lookup by name scans the
// whole list, and a handshake asks for these several times. The first of repeated fields counts,
// as with req[name]. Views into `req`.
struct handshake_fields {
  explicit handshake_fields(const request& req);

  // The request names websocket in its Upgrade header, whether or not the rest is valid.
  bool wants_websocket() const;
  // A complete upgrade request: GET, HTTP/1.1, `Connection: upgrade`, `Upgrade: websocket`.
  bool is_upgrade(const request& req) const;

  std::string_view upgrade;
  std::string_view connection;
  std::string_view version;
  std::string_view key;
};

// nullopt when the handshake is valid; otherwise the refusal: 400 (not GET, not HTTP/1.1, no
// `Connection: upgrade`, a key that is not 16 bytes in base64) or 426 naming version 13.
std::optional<string_response> check_handshake(const request& req, const handshake_fields& fields);

// Sec-WebSocket-Accept for a client key: base64(SHA-1(key + the RFC 6455 GUID)).
std::string websocket_accept(std::string_view key);

// The serialised 101 response for a checked request. No extension is accepted (no
// permessage-deflate): frames stay shareable byte for byte across subscribers.
std::string switching_protocols(const handshake_fields& fields, std::string_view server_name);

}  // namespace progress::server
