#pragma once
// RFC 6455 framing for the server side, with no I/O: client bytes in, events out; server frame
// headers out. The session owns the socket; this owns every framing rule, so they are tested here
// byte for byte.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace progress::server::ws {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Close codes the server sends on its own (the hub chooses the others).
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseNoStatus = 1005;  // received only: the peer's close had no code
inline constexpr std::uint16_t kCloseInvalidPayload = 1007;
// RFC 6455 5.5: control frames carry at most 125 payload bytes.
inline constexpr std::size_t kMaxControlPayload = 125;
// The longest server frame header: 2 bytes + 64-bit length (servers never mask).
inline constexpr std::size_t kMaxServerHeader = 10;

enum class event_kind {
  need_more,  // the input is used up; feed more bytes
  text,       // a whole text message, valid UTF-8, in `payload`
  binary,     // a whole binary message (its bytes are not kept: the hub only refuses it)
  ping,       // answer with a pong carrying `payload`
  pong,
  close,      // the peer closes: `code` (kCloseNoStatus when it gave none), `payload` = reason
  oversize,   // a message went past the limit; the rest of it is skipped, not stored
  fail,       // protocol violation: close with `code` (1002 or 1007); the parser stops
};

struct event {
  event_kind kind = event_kind::need_more;
  // Points into the fed input or into the parser; valid until the next call to next().
  std::string_view payload;
  std::uint16_t code = 0;
};

// Parses client frames incrementally. Payloads of messages that arrive whole within one input are
// unmasked in place and returned as views (no copy); only a message split across inputs or frames
// is gathered in the parser, and that storage is released once the message is out.
class frame_parser {
 public:
  explicit frame_parser(std::size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Consumes bytes from the front of `input` until one event is complete or the input is used up
  // (need_more). Call again with the rest until need_more.
  event next(std::span<char>& input);

  // After a close or a failure nothing more is parsed: further input is dropped.
  bool stopped() const noexcept { return state_ == state::stopped; }
  // Heap bytes held for a message or control frame still incomplete (0 between messages).
  std::size_t held_bytes() const noexcept;

 private:
  enum class state : std::uint8_t { header, payload, stopped };

  // Validates the complete header in head_; sets `out` to an event to report right away.
  void start_frame(event& out);
  event on_payload(std::span<char>& input);
  event complete_frame(std::string_view payload);
  event close_event(std::string_view payload);
  event fail(std::uint16_t code);

  std::size_t max_message_bytes_;
  std::string gathered_;        // the text message split across inputs or frames, so far
  std::string control_;         // a control frame split across inputs (may interleave a message)
  std::uint64_t remaining_ = 0; // payload bytes of the current frame not yet consumed
  std::uint64_t message_bytes_ = 0;
  std::array<std::uint8_t, 14> head_{};
  std::array<std::uint8_t, 4> mask_{};
  std::uint8_t head_len_ = 0;
  std::uint8_t mask_offset_ = 0;
  state state_ = state::header;
  opcode frame_op_ = opcode::text;
  opcode message_op_ = opcode::text;
  bool fin_ = false;
  bool in_message_ = false;   // a fragmented data message is open (continuations expected)
  bool skipping_ = false;     // the current message is oversize or binary: its bytes are dropped
  bool oversize_ = false;     // the current message was reported oversize
  bool release_gathered_ = false;  // handed out as an event's payload: free on the next call
  bool release_control_ = false;
};

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

// Writes the header of an unmasked final server frame into `out`; returns its length (2, 4 or 10).
std::size_t encode_header(std::span<std::uint8_t, kMaxServerHeader> out, opcode op, std::uint64_t length) noexcept;

// A whole unmasked control frame (pong, close); `payload` is cut to 125 bytes.
std::string control_frame(opcode op, std::string_view payload);
// A close frame with `code` and `reason` (the reason cut so the payload stays within 125 bytes,
// never inside a UTF-8 sequence).
std::string close_frame(std::uint16_t code, std::string_view reason);

}  // namespace progress::server::ws
