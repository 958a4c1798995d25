#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// Client side of RFC 6455, only as much as a load generator needs: the upgrade request, masked
// text/close/pong frames, and parsing of unmasked server frames in place (no copies, no allocation).
namespace progress::bench {

enum class opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

// Appends the HTTP upgrade request for `path` on `host` to `out`.
void append_upgrade_request(std::string& out, std::string_view host, std::string_view path);

// Length of the HTTP response head in `buf` (through the blank line), 0 when not complete yet,
// or -1 when the status is not 101.
long parse_upgrade_response(std::string_view buf);

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
