#include "ws_framing.hpp"

namespace progress::bench {

void append_upgrade_request(std::string& out, std::string_view host, std::string_view path) {
  // A fixed key is fine: the generator does not verify Sec-WebSocket-Accept against it beyond the
  // 101 status, since both ends are on this machine and the server is the thing being measured.
  out += "GET ";
  out += path;
  out += " HTTP/1.1\r\nHost: ";
  out += host;
  out +=
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
}

long parse_upgrade_response(std::string_view buf) {
  const auto end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  if (buf.substr(0, 12) != "HTTP/1.1 101") return -1;
  return static_cast<long>(end + 4);
}

void append_frame(std::string& out, opcode op, std::string_view payload, std::uint32_t mask) {
  out.push_back(static_cast<char>(0x80U | static_cast<unsigned>(op)));
  const std::size_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(0x80U | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80U | 126U));
    out.push_back(static_cast<char>((n >> 8) & 0xFFU));
    out.push_back(static_cast<char>(n & 0xFFU));
  } else {
    out.push_back(static_cast<char>(0x80U | 127U));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xFFU));
  }
  const unsigned char key[4] = {static_cast<unsigned char>(mask >> 24), static_cast<unsigned char>(mask >> 16),
                                static_cast<unsigned char>(mask >> 8), static_cast<unsigned char>(mask)};
  for (unsigned char k : key) out.push_back(static_cast<char>(k));
  const std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < n; ++i) {
    out[start + i] = static_cast<char>(static_cast<unsigned char>(out[start + i]) ^ key[i & 3U]);
  }
}

parse_status parse_frame(std::string_view buf, frame_view& out) {
  if (buf.size() < 2) return parse_status::need_more;
  const auto b0 = static_cast<unsigned char>(buf[0]);
  const auto b1 = static_cast<unsigned char>(buf[1]);
  if ((b1 & 0x80U) != 0) return parse_status::protocol_error;
  std::uint64_t len = b1 & 0x7FU;
  std::size_t header = 2;
  if (len == 126) {
    if (buf.size() < 4) return parse_status::need_more;
    len = (std::uint64_t{static_cast<unsigned char>(buf[2])} << 8) | static_cast<unsigned char>(buf[3]);
    header = 4;
  } else if (len == 127) {
    if (buf.size() < 10) return parse_status::need_more;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | static_cast<unsigned char>(buf[i]);
    header = 10;
  }
  if (len > (std::uint64_t{1} << 30)) return parse_status::protocol_error;
  if (buf.size() - header < len) return parse_status::need_more;
  out.op = static_cast<opcode>(b0 & 0x0FU);
  out.fin = (b0 & 0x80U) != 0;
  out.payload = buf.substr(header, static_cast<std::size_t>(len));
  out.consumed = header + static_cast<std::size_t>(len);
  return parse_status::complete;
}

}  // namespace progress::bench
