// RFC 6455 framing rules of the server, byte vectors in -> events out. Every vector is also fed one
// byte at a time and in two arbitrary pieces: a TCP read may cut a frame anywhere.
#include "wire/ws_frames.hpp"

#include "support/client_frames.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace progress::server::ws {
namespace {

using progress::test::client_frame;
using progress::test::close_payload;

constexpr std::uint8_t kFin = 0x80;

struct seen {
  event_kind kind;
  std::string payload;
  std::uint16_t code;
  bool operator==(const seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const seen& s) {
  return os << "{kind " << static_cast<int>(s.kind) << ", payload '" << s.payload << "', code " << s.code << "}";
}

std::vector<seen> feed_pieces(const std::vector<std::string>& pieces, std::size_t limit) {
  frame_parser parser(limit);
  std::vector<seen> out;
  for (const auto& piece : pieces) {
    std::string copy = piece;  // the parser unmasks in place
    std::span<char> input(copy.data(), copy.size());
    for (;;) {
      const event e = parser.next(input);
      if (e.kind == event_kind::need_more) break;
      out.push_back(seen{e.kind, std::string(e.payload), e.code});
    }
    EXPECT_TRUE(input.empty());
  }
  return out;
}

// Runs `bytes` whole, byte by byte and split at every third position; all must agree.
std::vector<seen> parse(const std::string& bytes, std::size_t limit = 1 << 20) {
  const auto whole = feed_pieces({bytes}, limit);
  std::vector<std::string> single;
  for (char c : bytes) single.emplace_back(1, c);
  EXPECT_EQ(feed_pieces(single, limit), whole) << "fed one byte at a time";
  for (std::size_t cut = 1; cut < bytes.size(); cut += 3) {
    EXPECT_EQ(feed_pieces({bytes.substr(0, cut), bytes.substr(cut)}, limit), whole) << "cut at " << cut;
  }
  return whole;
}

TEST(WsFrames, MaskedTextMessage) {
  EXPECT_EQ(parse(client_frame(kFin | 0x1, R"({"type":"ping"})")),
            (std::vector<seen>{{event_kind::text, R"({"type":"ping"})", 0}}));
}

TEST(WsFrames, SixteenAndSixtyFourBitLengths) {
  const std::string medium(300, 'm');
  const std::string large(70'000, 'L');
  EXPECT_EQ(feed_pieces({client_frame(kFin | 0x1, medium)}, 1 << 20),
            (std::vector<seen>{{event_kind::text, medium, 0}}));
  EXPECT_EQ(feed_pieces({client_frame(kFin | 0x1, large)}, 1 << 20), (std::vector<seen>{{event_kind::text, large, 0}}));
}

TEST(WsFrames, SeveralFramesInOneInputComeOutInOrder) {
  const auto bytes = client_frame(kFin | 0x1, "one") + client_frame(kFin | 0x9, "p") + client_frame(kFin | 0x1, "two");
  EXPECT_EQ(parse(bytes), (std::vector<seen>{{event_kind::text, "one", 0},
                                             {event_kind::ping, "p", 0},
                                             {event_kind::text, "two", 0}}));
}

TEST(WsFrames, FragmentedTextIsReassembledWithControlFramesInBetween) {
  const auto bytes = client_frame(0x1, "{\"type\":") + client_frame(kFin | 0x9, "mid") + client_frame(0x0, "\"pi") +
                     client_frame(kFin | 0xA, "") + client_frame(kFin | 0x0, "ng\"}");
  EXPECT_EQ(parse(bytes), (std::vector<seen>{{event_kind::ping, "mid", 0},
                                             {event_kind::pong, "", 0},
                                             {event_kind::text, R"({"type":"ping"})", 0}}));
}

TEST(WsFrames, EmptyFramesAndEmptyMessages) {
  EXPECT_EQ(parse(client_frame(kFin | 0x1, "")), (std::vector<seen>{{event_kind::text, "", 0}}));
  EXPECT_EQ(parse(client_frame(0x1, "") + client_frame(0x0, "") + client_frame(kFin | 0x0, "x")),
            (std::vector<seen>{{event_kind::text, "x", 0}}));
}

TEST(WsFrames, PingPayloadIsReturnedForThePong) {
  EXPECT_EQ(parse(client_frame(kFin | 0x9, "hello")), (std::vector<seen>{{event_kind::ping, "hello", 0}}));
}

TEST(WsFrames, UnmaskedClientFrameIs1002) {
  EXPECT_EQ(parse(client_frame(kFin | 0x1, "hi", false)), (std::vector<seen>{{event_kind::fail, "", 1002}}));
}

TEST(WsFrames, ReservedBitsAre1002) {
  for (const std::uint8_t rsv : std::initializer_list<std::uint8_t>{0x40, 0x20, 0x10}) {
    EXPECT_EQ(parse(client_frame(static_cast<std::uint8_t>(kFin | rsv | 0x1), "hi")),
              (std::vector<seen>{{event_kind::fail, "", 1002}}));
  }
}

TEST(WsFrames, UnknownOpcodesAre1002) {
  for (const std::uint8_t op : std::initializer_list<std::uint8_t>{0x3, 0x7, 0xB, 0xF}) {
    EXPECT_EQ(parse(client_frame(static_cast<std::uint8_t>(kFin | op), "")),
              (std::vector<seen>{{event_kind::fail, "", 1002}}))
        << "opcode " << int{op};
  }
}

TEST(WsFrames, ControlFramesOver125BytesOrFragmentedAre1002) {
  EXPECT_EQ(parse(client_frame(kFin | 0x9, std::string(126, 'p'))), (std::vector<seen>{{event_kind::fail, "", 1002}}));
  EXPECT_EQ(parse(client_frame(kFin | 0x9, std::string(125, 'p'))),
            (std::vector<seen>{{event_kind::ping, std::string(125, 'p'), 0}}));
  EXPECT_EQ(parse(client_frame(0x9, "x")), (std::vector<seen>{{event_kind::fail, "", 1002}}));
}

TEST(WsFrames, ContinuationWithoutAMessageIs1002) {
  EXPECT_EQ(parse(client_frame(kFin | 0x0, "x")), (std::vector<seen>{{event_kind::fail, "", 1002}}));
}

TEST(WsFrames, NewMessageInsideAFragmentedOneIs1002) {
  EXPECT_EQ(parse(client_frame(0x1, "a") + client_frame(kFin | 0x1, "b")),
            (std::vector<seen>{{event_kind::fail, "", 1002}}));
}

TEST(WsFrames, NothingIsParsedAfterAFailure) {
  EXPECT_EQ(parse(client_frame(kFin | 0x1, "x", false) + client_frame(kFin | 0x1, "after")),
            (std::vector<seen>{{event_kind::fail, "", 1002}}));
}

TEST(WsFrames, InvalidUtf8TextIs1007) {
  EXPECT_EQ(parse(client_frame(kFin | 0x1, "bad \xC3\x28")), (std::vector<seen>{{event_kind::fail, "", 1007}}));
  // A sequence cut between fragments is fine once complete...
  EXPECT_EQ(parse(client_frame(0x1, "\xE2\x82") + client_frame(kFin | 0x0, "\xAC")),
            (std::vector<seen>{{event_kind::text, "\xE2\x82\xAC", 0}}));
  // ...and not when the message ends inside it.
  EXPECT_EQ(parse(client_frame(kFin | 0x1, "\xE2\x82")), (std::vector<seen>{{event_kind::fail, "", 1007}}));
}

TEST(WsFrames, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));                  // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));              // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));              // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));          // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xF8\x88\x80\x80\x80"));      // five-byte form
  EXPECT_FALSE(is_valid_utf8("abcdefgh\x80"));              // lone continuation after the fast path
  EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x98"));              // truncated
}

TEST(WsFrames, CloseWithCodeAndReason) {
  EXPECT_EQ(parse(client_frame(kFin | 0x8, close_payload(1000, "bye"))),
            (std::vector<seen>{{event_kind::close, "bye", 1000}}));
  EXPECT_EQ(parse(client_frame(kFin | 0x8, close_payload(4001))), (std::vector<seen>{{event_kind::close, "", 4001}}));
}

TEST(WsFrames, CloseWithoutCodeReportsNoStatus) {
  EXPECT_EQ(parse(client_frame(kFin | 0x8, "")), (std::vector<seen>{{event_kind::close, "", kCloseNoStatus}}));
}

TEST(WsFrames, CloseCodeValidation) {
  for (const std::uint16_t code : std::initializer_list<std::uint16_t>{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
    EXPECT_EQ(parse(client_frame(kFin | 0x8, close_payload(code))), (std::vector<seen>{{event_kind::fail, "", 1002}}))
        << "code " << code;
  }
  for (const std::uint16_t code : std::initializer_list<std::uint16_t>{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999}) {
    EXPECT_EQ(parse(client_frame(kFin | 0x8, close_payload(code))), (std::vector<seen>{{event_kind::close, "", code}}))
        << "code " << code;
  }
  EXPECT_EQ(parse(client_frame(kFin | 0x8, "\x03")), (std::vector<seen>{{event_kind::fail, "", 1002}}));
  EXPECT_EQ(parse(client_frame(kFin | 0x8, close_payload(1000, "\xFF"))),
            (std::vector<seen>{{event_kind::fail, "", 1007}}));
}

TEST(WsFrames, NothingIsParsedAfterClose) {
  EXPECT_EQ(parse(client_frame(kFin | 0x8, close_payload(1000)) + client_frame(kFin | 0x1, "late")),
            (std::vector<seen>{{event_kind::close, "", 1000}}));
}

TEST(WsFrames, OversizeMessageIsReportedOnceAndSkipped) {
  const auto bytes = client_frame(kFin | 0x1, std::string(11, 'x')) + client_frame(kFin | 0x1, "ok");
  EXPECT_EQ(parse(bytes, 10), (std::vector<seen>{{event_kind::oversize, "", 0}, {event_kind::text, "ok", 0}}));
  // Over the limit only in total, across fragments.
  const auto fragmented = client_frame(0x1, "123456") + client_frame(0x0, "78") + client_frame(kFin | 0x0, "901");
  EXPECT_EQ(parse(fragmented, 10), (std::vector<seen>{{event_kind::oversize, "", 0}}));
  EXPECT_EQ(parse(client_frame(kFin | 0x1, std::string(10, 'x')), 10),
            (std::vector<seen>{{event_kind::text, std::string(10, 'x'), 0}}));
}

TEST(WsFrames, OversizeIsReportedBeforeThePayloadArrives) {
  frame_parser parser(10);
  std::string head = client_frame(kFin | 0x1, std::string(1000, 'x')).substr(0, 8);  // 2 + 2 length + 4 mask
  std::span<char> input(head.data(), head.size());
  EXPECT_EQ(parser.next(input).kind, event_kind::oversize);
}

TEST(WsFrames, BinaryMessageIsReportedWithoutItsBytes) {
  EXPECT_EQ(parse(client_frame(0x2, "ab") + client_frame(kFin | 0x0, "cd")),
            (std::vector<seen>{{event_kind::binary, "", 0}}));
}

TEST(WsFrames, SixtyFourBitLengthWithTheTopBitIs1002) {
  std::string bytes = {static_cast<char>(kFin | 0x1), static_cast<char>(0x80 | 127)};
  bytes += std::string("\x80\0\0\0\0\0\0\0", 8);
  bytes += "abcd";
  EXPECT_EQ(parse(bytes), (std::vector<seen>{{event_kind::fail, "", 1002}}));
}

TEST(WsFrames, SplitMessageStorageIsReleasedOnceHandedOut) {
  frame_parser parser(1 << 20);
  std::string bytes = client_frame(kFin | 0x1, std::string(4000, 'a'));
  std::string first = bytes.substr(0, 100);
  std::string rest = bytes.substr(100);
  std::span<char> in1(first.data(), first.size());
  EXPECT_EQ(parser.next(in1).kind, event_kind::need_more);
  EXPECT_GT(parser.held_bytes(), 0u);
  std::span<char> in2(rest.data(), rest.size());
  EXPECT_EQ(parser.next(in2).kind, event_kind::text);
  std::span<char> none;
  EXPECT_EQ(parser.next(none).kind, event_kind::need_more);
  EXPECT_EQ(parser.held_bytes(), 0u);
}

TEST(WsFrames, ServerHeaders) {
  std::array<std::uint8_t, kMaxServerHeader> head{};
  ASSERT_EQ(encode_header(head, opcode::text, 5), 2u);
  EXPECT_EQ(head[0], 0x81);
  EXPECT_EQ(head[1], 5);
  ASSERT_EQ(encode_header(head, opcode::text, 126), 4u);
  EXPECT_EQ(head[1], 126);
  EXPECT_EQ(head[2], 0);
  EXPECT_EQ(head[3], 126);
  ASSERT_EQ(encode_header(head, opcode::text, 65536), 10u);
  EXPECT_EQ(head[1], 127);
  EXPECT_EQ(head[7], 1);
  EXPECT_EQ(head[8], 0);
  EXPECT_EQ(head[9], 0);
}

TEST(WsFrames, CloseFrameCutsTheReasonAtACharacterBoundary) {
  const std::string reason = std::string(122, 'r') + "\xE2\x82\xAC";  // the euro sign would straddle 123
  const std::string frame = close_frame(1001, reason);
  ASSERT_GE(frame.size(), 4u);
  EXPECT_EQ(static_cast<std::uint8_t>(frame[0]), 0x88);
  EXPECT_EQ(static_cast<std::uint8_t>(frame[1]), 2 + 122);
  EXPECT_EQ(frame.substr(2, 2), std::string("\x03\xE9", 2));
  EXPECT_TRUE(is_valid_utf8(frame.substr(4)));
}

}  // namespace
}  // namespace progress::server::ws
