#include "wire/ws_frames.hpp"

#include <algorithm>
#include <cstring>

namespace progress::server::ws {
namespace {

bool is_control(opcode op) { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

bool is_known(std::uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

// RFC 6455 7.4: codes a peer may put on the wire (1004-1006 and 1015 are reserved for APIs).
bool is_valid_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

// Length of the header once its first two bytes are known (mask key included).
std::size_t header_length(std::uint8_t second) {
  const std::uint8_t len7 = second & 0x7F;
  const std::size_t extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  return 2 + extended + ((second & 0x80) != 0 ? 4 : 0);
}

// Every byte a client sends passes through here: eight at a time, with the key rotated to `offset`
// once, rather than an index computed per byte.
void unmask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask, std::uint8_t offset) {
  std::array<std::uint8_t, 8> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = mask[(offset + i) & 3];
  std::uint64_t key_word = 0;
  std::memcpy(&key_word, key.data(), key.size());
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + i, 8);
    word ^= key_word;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ key[i & 7]);
}

}  // namespace

std::size_t frame_parser::held_bytes() const noexcept {
  // An empty std::string's capacity is its small buffer, not heap.
  const std::size_t small = std::string().capacity();
  return (gathered_.capacity() > small ? gathered_.capacity() : 0) + (control_.capacity() > small ? control_.capacity() : 0);
}

event frame_parser::next(std::span<char>& input) {
  // Storage handed out by the previous event is freed now, so idle sessions hold none.
  if (release_gathered_) {
    release_gathered_ = false;
    std::string().swap(gathered_);  // swap frees the heap buffer; assignment may keep it
  }
  if (release_control_) {
    release_control_ = false;
    std::string().swap(control_);
  }
  while (!input.empty()) {
    if (state_ == state::stopped) {
      input = input.subspan(input.size());
      break;
    }
    if (state_ == state::header) {
      // Copy just as many bytes as the header needs: it is at most 14 bytes.
      const std::size_t want = head_len_ < 2 ? 2 : header_length(head_[1]);
      const std::size_t take = std::min(want - head_len_, input.size());
      std::memcpy(head_.data() + head_len_, input.data(), take);
      head_len_ = static_cast<std::uint8_t>(head_len_ + take);
      input = input.subspan(take);
      if (head_len_ == 2) {
        if ((head_[1] & 0x80) == 0) return fail(kCloseProtocolError);  // clients must mask
        continue;
      }
      if (head_len_ < want) break;
      event out;
      start_frame(out);
      if (out.kind != event_kind::need_more) return out;
    }
    if (state_ == state::payload) {
      event out = on_payload(input);
      if (out.kind != event_kind::need_more) return out;
    }
  }
  // A zero-length frame completes with no payload bytes to wait for.
  if (state_ == state::payload && remaining_ == 0) return on_payload(input);
  return {};
}

void frame_parser::start_frame(event& out) {
  const std::uint8_t first = head_[0];
  const std::uint8_t second = head_[1];
  const std::uint8_t len7 = second & 0x7F;
  std::uint64_t length = len7;
  std::size_t at = 2;
  if (len7 == 126) {
    length = (std::uint64_t{head_[2]} << 8) | head_[3];
    at = 4;
  } else if (len7 == 127) {
    length = 0;
    for (std::size_t i = 0; i < 8; ++i) length = (length << 8) | head_[2 + i];
    at = 10;
  }
  std::memcpy(mask_.data(), head_.data() + at, 4);
  head_len_ = 0;
  mask_offset_ = 0;
  const std::uint8_t op = first & 0x0F;
  if ((first & 0x70) != 0 || !is_known(op) || (length >> 63) != 0) {
    out = fail(kCloseProtocolError);
    return;
  }
  frame_op_ = static_cast<opcode>(op);
  fin_ = (first & 0x80) != 0;
  if (is_control(frame_op_)) {
    if (!fin_ || length > kMaxControlPayload) {
      out = fail(kCloseProtocolError);
      return;
    }
  } else if (frame_op_ == opcode::continuation) {
    if (!in_message_) {
      out = fail(kCloseProtocolError);
      return;
    }
  } else {
    if (in_message_) {
      out = fail(kCloseProtocolError);
      return;
    }
    message_op_ = frame_op_;
    message_bytes_ = 0;
    oversize_ = false;
    skipping_ = message_op_ == opcode::binary;
  }
  if (!is_control(frame_op_)) {
    in_message_ = !fin_;
    message_bytes_ += length;
    if (!oversize_ && message_bytes_ > max_message_bytes_) {
      oversize_ = true;
      skipping_ = true;
      std::string().swap(gathered_);
      out.kind = event_kind::oversize;
    }
  }
  remaining_ = length;
  state_ = state::payload;
}

event frame_parser::on_payload(std::span<char>& input) {
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
  char* data = input.data();
  input = input.subspan(take);
  const bool whole_here = take == remaining_;
  remaining_ -= take;
  const auto offset = mask_offset_;
  mask_offset_ = static_cast<std::uint8_t>((mask_offset_ + take) & 3);
  if (is_control(frame_op_)) {
    if (whole_here && control_.empty()) {
      unmask(data, take, mask_, offset);
      state_ = state::header;
      return complete_frame(std::string_view(data, take));
    }
    const std::size_t old = control_.size();
    control_.append(data, take);
    unmask(control_.data() + old, take, mask_, offset);
    if (remaining_ != 0) return {};
    state_ = state::header;
    release_control_ = true;
    return complete_frame(control_);
  }
  if (skipping_) {
    if (remaining_ != 0) return {};
    state_ = state::header;
    if (!fin_ || oversize_) return {};
    return event{event_kind::binary, {}, 0};
  }
  if (whole_here && fin_ && gathered_.empty()) {
    unmask(data, take, mask_, offset);
    state_ = state::header;
    return complete_frame(std::string_view(data, take));
  }
  const std::size_t old = gathered_.size();
  gathered_.append(data, take);
  unmask(gathered_.data() + old, take, mask_, offset);
  if (remaining_ != 0) return {};
  state_ = state::header;
  if (!fin_) return {};
  release_gathered_ = true;
  return complete_frame(gathered_);
}

event frame_parser::complete_frame(std::string_view payload) {
  switch (frame_op_) {
    case opcode::ping:
      return event{event_kind::ping, payload, 0};
    case opcode::pong:
      return event{event_kind::pong, payload, 0};
    case opcode::close:
      return close_event(payload);
    default:
      if (!is_valid_utf8(payload)) return fail(kCloseInvalidPayload);
      return event{event_kind::text, payload, 0};
  }
}

event frame_parser::close_event(std::string_view payload) {
  if (payload.empty()) {
    state_ = state::stopped;
    return event{event_kind::close, {}, kCloseNoStatus};
  }
  if (payload.size() == 1) return fail(kCloseProtocolError);
  const auto code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                               static_cast<std::uint8_t>(payload[1]));
  if (!is_valid_close_code(code)) return fail(kCloseProtocolError);
  const auto reason = payload.substr(2);
  if (!is_valid_utf8(reason)) return fail(kCloseInvalidPayload);
  state_ = state::stopped;
  return event{event_kind::close, reason, code};
}

event frame_parser::fail(std::uint16_t code) {
  state_ = state::stopped;
  std::string().swap(gathered_);
  std::string().swap(control_);
  return event{event_kind::fail, {}, code};
}

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p < end) {
    // Protocol frames are almost all ASCII: check eight bytes at a time.
    if (end - p >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::ptrdiff_t follow = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      follow = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      follow = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      follow = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (end - p <= follow) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::ptrdiff_t i = 2; i <= follow; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += follow + 1;
  }
  return true;
}

std::size_t encode_header(std::span<std::uint8_t, kMaxServerHeader> out, opcode op, std::uint64_t length) noexcept {
  out[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(op));
  if (length < 126) {
    out[1] = static_cast<std::uint8_t>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<std::uint8_t>(length >> 8);
    out[3] = static_cast<std::uint8_t>(length);
    return 4;
  }
  out[1] = 127;
  for (std::size_t i = 0; i < 8; ++i) out[2 + i] = static_cast<std::uint8_t>(length >> (56 - 8 * i));
  return 10;
}

std::string control_frame(opcode op, std::string_view payload) {
  payload = payload.substr(0, kMaxControlPayload);
  std::array<std::uint8_t, kMaxServerHeader> head{};
  const std::size_t head_size = encode_header(head, op, payload.size());
  std::string frame(reinterpret_cast<const char*>(head.data()), head_size);
  frame.append(payload);
  return frame;
}

std::string close_frame(std::uint16_t code, std::string_view reason) {
  std::size_t cut = std::min(reason.size(), kMaxControlPayload - 2);
  // Never end the reason inside a multi-byte sequence: the peer would fail us with 1007.
  if (cut < reason.size()) {
    while (cut > 0 && (static_cast<std::uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
  }
  std::string payload;
  payload.reserve(2 + cut);
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, cut));
  return control_frame(opcode::close, payload);
}

}  // namespace progress::server::ws
