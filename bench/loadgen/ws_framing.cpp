#include "ws_framing.hpp"

#include <cstring>

namespace progress::bench {

namespace {

bool equal_ignoring_case(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char ch = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (ch != lower[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

constexpr std::string_view accept_line = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
static_assert(accept_line.substr(22) == upgrade_accept);

}  // namespace

void append_upgrade_request(std::string& out, std::string_view host, std::string_view path) {
  out += "GET ";
  out += path;
  out += " HTTP/1.1\r\nHost: ";
  out += host;
  out += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  out += upgrade_key;
  out += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

upgrade_reply parse_upgrade_response(std::string_view buf) {
  // One memchr per line (a 101 has about five): this runs once per connection in churn, where
  // string searches for the blank line and the header cost more than the rest of the cycle.
  auto line_end = [&](std::size_t from) -> std::size_t {
    const void* hit = std::memchr(buf.data() + from, '\n', buf.size() - from);
    return hit == nullptr ? std::string_view::npos
                          : static_cast<std::size_t>(static_cast<const char*>(hit) - buf.data());
  };
  std::size_t eol = line_end(0);
  if (eol == std::string_view::npos) return {upgrade_status::incomplete, 0};
  if (buf.substr(0, 12) != "HTTP/1.1 101") return {upgrade_status::refused, 0};
  bool accepted = false;
  for (;;) {
    const std::size_t line = eol + 1;
    eol = line_end(line);
    if (eol == std::string_view::npos) return {upgrade_status::incomplete, 0};
    const std::string_view header = trim(buf.substr(line, eol - line));
    if (header.empty()) return {accepted ? upgrade_status::accepted : upgrade_status::bad_accept, eol + 1};
    if (header[0] != 's' && header[0] != 'S') continue;
    if (header.size() == accept_line.size() && header.substr(0, 22) == accept_line.substr(0, 22)) {
      accepted = header.substr(22) == upgrade_accept;  // as the hub and both Node peers write it
      continue;
    }
    const auto colon = header.find(':');
    if (colon == std::string_view::npos) continue;
    if (equal_ignoring_case(trim(header.substr(0, colon)), "sec-websocket-accept")) {
      accepted = trim(header.substr(colon + 1)) == upgrade_accept;
    }
  }
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
  const unsigned char key[4] = {static_cast<unsigned char>(mask >> 24),
                                static_cast<unsigned char>(mask >> 16),
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
