// The server's WebSocket input: RFC 6455 frames from a client (ws::frame_parser) and the opening
// handshake (handshake_fields, check_handshake, switching_protocols). The first byte picks which,
// and the size of the pieces the rest arrives in, as TCP segments would split it.
// Frame invariants: the event sequence is the same however the bytes are split (compared with one
// whole feed); text is valid UTF-8 within the message limit; control payloads are at most 125
// bytes; a failure is 1002 or 1007 and stops the parser; a close carries a code a peer may send;
// the parser never holds more than one message and one control frame (with string growth).
// Handshake invariants: nothing throws; an accepted handshake answers 101 with a 28-character
// Sec-WebSocket-Accept; a refusal is 400 or 426 with a JSON error body.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "http/request_parser.hpp"
#include "wire/ws_frames.hpp"
#include "wire/ws_handshake.hpp"

namespace ps = progress::server;
namespace ws = progress::server::ws;
namespace fz = progress::fuzz;

namespace {

constexpr std::size_t kMaxMessageBytes = 256;

struct seen {
  ws::event_kind kind;
  std::string payload;
  std::uint16_t code;
  bool operator==(const seen&) const = default;
};

bool sendable_close_code(std::uint16_t code) {
  return code == ws::kCloseNoStatus || (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

void check_event(const ws::event& e, const ws::frame_parser& parser) {
  switch (e.kind) {
    case ws::event_kind::text:
      fz::check(ws::is_valid_utf8(e.payload), "a text message that is not UTF-8");
      fz::check(e.payload.size() <= kMaxMessageBytes, "a text message over the limit");
      break;
    case ws::event_kind::ping:
    case ws::event_kind::pong:
      fz::check(e.payload.size() <= ws::kMaxControlPayload, "a control payload over 125 bytes");
      break;
    case ws::event_kind::close:
      fz::check(sendable_close_code(e.code), "a close code no peer may send", std::to_string(e.code));
      fz::check(e.payload.size() <= ws::kMaxControlPayload - 2, "a close reason over 123 bytes");
      fz::check(parser.stopped(), "the parser goes on after a close");
      break;
    case ws::event_kind::fail:
      fz::check(e.code == ws::kCloseProtocolError || e.code == ws::kCloseInvalidPayload,
                "a failure that is not 1002 or 1007", std::to_string(e.code));
      fz::check(parser.stopped(), "the parser goes on after a failure");
      break;
    default:
      break;
  }
  // Capacity, not size: a growing std::string may hold up to twice what it was given.
  fz::check(parser.held_bytes() <= 2 * (kMaxMessageBytes + ws::kMaxControlPayload),
            "the parser holds more than a message and a control frame");
}

// Every event of `input` fed `piece` bytes at a time; the input is unmasked in place, so each run
// gets its own copy.
std::vector<seen> parse(std::string input, std::size_t piece) {
  ws::frame_parser parser(kMaxMessageBytes);
  std::vector<seen> events;
  for (std::size_t at = 0; at < input.size(); at += piece) {
    std::span<char> rest(input.data() + at, std::min(piece, input.size() - at));
    while (true) {
      const auto e = parser.next(rest);
      if (e.kind == ws::event_kind::need_more) break;
      check_event(e, parser);
      events.push_back({e.kind, std::string(e.payload), e.code});
      if (parser.stopped()) return events;
    }
  }
  return events;
}

void fuzz_handshake(std::string_view input) {
  ps::bounded_request_parser parser(4096, 0);
  ps::error_code ec;
  parser.put(ps::net::buffer(input.data(), input.size()), ec);
  if (ec || !parser.is_header_done()) return;
  const ps::request& req = parser.get();
  const ps::handshake_fields fields(req);
  if (!fields.wants_websocket()) return;
  if (auto refused = check_handshake(req, fields)) {
    const unsigned status = refused->result_int();
    fz::check(status == 400 || status == 426, "a handshake refusal that is not 400 or 426", std::to_string(status));
    fz::check(refused->body().rfind("{\"error\":{", 0) == 0, "a handshake refusal without a JSON error");
    return;
  }
  const std::string answer = ps::switching_protocols(fields, "progress-hub/fuzz");
  fz::check(answer.rfind("HTTP/1.1 101 ", 0) == 0, "an accepted handshake not answered 101");
  fz::check(ps::websocket_accept(fields.key).size() == 28, "a Sec-WebSocket-Accept that is not 28 characters");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    fuzz_handshake(input);
    return 0;
  }
  const std::size_t piece = (std::size_t{data[0]} >> 1) + 1;  // 1 to 128 bytes a read
  const auto whole = parse(std::string(input), input.size() + 1);
  const auto split = parse(std::string(input), piece);
  fz::check(whole == split, "the events depend on how the bytes were split");
  return 0;
}
