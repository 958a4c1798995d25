#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// Client side of RFC 6455, only as much as a load generator needs: the upgrade request, masked
// text/close/pong frames, and parsing of unmasked server frames in place (no copies, no allocation).
namespace progress::bench {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Every connection sends the same key, so the server's Sec-WebSocket-Accept is a constant (the pair
// from RFC 6455 1.3) and checking it costs a comparison, not a SHA-1, per connection. Both ends are on
// this machine; the key's randomness protects nothing here.
inline constexpr std::string_view upgrade_key = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr std::string_view upgrade_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// Appends the HTTP upgrade request for `path` on `host` to `out`.
void append_upgrade_request(std::string& out, std::string_view host, std::string_view path);

enum class upgrade_status { incomplete, accepted, refused, bad_accept };

struct upgrade_reply {
  upgrade_status status;
  std::size_t head;  // accepted: bytes of the response head (through the blank line)
};

// Reads the server's answer to the upgrade request at the start of `buf`: accepted only for a 101
// whose Sec-WebSocket-Accept (header name in any case) answers `upgrade_key`.
upgrade_reply parse_upgrade_response(std::string_view buf);

// Appends one masked client frame. `mask` varies per frame; its quality does not matter between
// two processes on one machine, only that the server unmasks correctly.
void append_frame(std::string& out, opcode op, std::string_view payload, std::uint32_t mask);

struct frame_view {
  opcode op;
  bool fin;
  std::string_view payload;
  std::size_t consumed;  // header + payload bytes
};

enum class parse_status { complete, need_more, protocol_error };

// Parses one server frame at the start of `buf`. Server frames are never masked; a masked one is
// a protocol error.
parse_status parse_frame(std::string_view buf, frame_view& out);

}  // namespace progress::bench
