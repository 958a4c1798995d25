// What the generator concludes from a server's bytes: a bench that miscounts or accepts a broken
// upgrade measures nothing, so its parsers are tested like the server's.
#include <gtest/gtest.h>

#include <string>

#include "frame_scan.hpp"
#include "ws_framing.hpp"

namespace progress::bench {
namespace {

const std::string hub_reply =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

TEST(UpgradeReply, AcceptsTheAnswerToTheFixedKeyAndEndsAtTheBlankLine) {
  const std::string frames = "\x81\x02{}";
  const auto reply = parse_upgrade_response(hub_reply + frames);
  EXPECT_EQ(reply.status, upgrade_status::accepted);
  EXPECT_EQ(reply.head, hub_reply.size());
}

TEST(UpgradeReply, HeaderNameInAnyCaseWithBlanks) {
  const auto reply = parse_upgrade_response(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nsec-websocket-accept:  "
      "s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\nconnection: Upgrade\r\n\r\n");
  EXPECT_EQ(reply.status, upgrade_status::accepted);
}

TEST(UpgradeReply, IncompleteUntilTheBlankLine) {
  const std::string cut = hub_reply.substr(0, hub_reply.size() - 2);
  EXPECT_EQ(parse_upgrade_response(cut).status, upgrade_status::incomplete);
}

TEST(UpgradeReply, RefusedForAnyOtherStatus) {
  EXPECT_EQ(parse_upgrade_response("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n").status,
            upgrade_status::refused);
}

TEST(UpgradeReply, WrongMissingOrMisplacedAcceptIsRefused) {
  EXPECT_EQ(parse_upgrade_response("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: "
                                   "AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n")
                .status,
            upgrade_status::bad_accept);
  EXPECT_EQ(parse_upgrade_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n").status,
            upgrade_status::bad_accept);
  // The right value under another header, or with bytes after it, is no answer.
  EXPECT_EQ(parse_upgrade_response("HTTP/1.1 101 Switching Protocols\r\nX-Echo: "
                                   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
                .status,
            upgrade_status::bad_accept);
  EXPECT_EQ(parse_upgrade_response("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: "
                                   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=x\r\n\r\n")
                .status,
            upgrade_status::bad_accept);
}

TEST(UpgradeRequest, CarriesTheKeyWhoseAnswerIsChecked) {
  std::string out;
  append_upgrade_request(out, "127.0.0.1:8080", "/ws/progress/p-1");
  EXPECT_EQ(out.rfind("GET /ws/progress/p-1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n", 0), 0U);
  EXPECT_NE(out.find("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(ScanFields, ReadsTheFieldsWhateverTheKeyOrder) {
  // The hub sorts keys; the peers write them in insertion order.
  for (const char* frame :
       {R"({"data":{"bench_n":3,"bench_t":123456789},"process_id":"bench-churn-1-7","seq":42,)"
        R"("state":"completed","type":"snapshot"})",
        R"({"type":"snapshot","process_id":"bench-churn-1-7","seq":42,"state":"completed",)"
        R"("data":{"bench_t":123456789,"bench_n":3}})"}) {
    const frame_fields f = scan_fields(frame);
    EXPECT_EQ(f.type, "snapshot") << frame;
    EXPECT_EQ(f.state, "completed") << frame;
    EXPECT_EQ(f.process_id, "bench-churn-1-7") << frame;
    EXPECT_EQ(f.seq, 42U) << frame;
    EXPECT_EQ(f.bench_t, 123456789U) << frame;
    EXPECT_TRUE(is_terminal_state(f.state));
  }
}

TEST(ScanFields, EscapedQuotesAndValuesThatLookLikeKeysAreNotKeys) {
  const frame_fields f =
      scan_fields(R"({"message":"bad \"seq\":7 \\","reason":"type","type":"error","code":"seq"})");
  EXPECT_EQ(f.type, "error");
  EXPECT_FALSE(f.seq.has_value());
}

TEST(ScanFields, MissingFieldsStayEmpty) {
  const frame_fields f = scan_fields(R"({"type":"hello","protocol":1,"server":"progress-hub"})");
  EXPECT_EQ(f.type, "hello");
  EXPECT_TRUE(f.state.empty());
  EXPECT_FALSE(f.seq.has_value());
  EXPECT_FALSE(is_terminal_state(f.state));
}

TEST(ServerFrame, LengthFormsAndMaskedFramesAreRefused) {
  std::string frame = "\x81\x7e";
  frame += static_cast<char>(0x01);
  frame += static_cast<char>(0x00);
  frame += std::string(256, 'x');
  frame_view f{};
  EXPECT_EQ(parse_frame(frame, f), parse_status::complete);
  EXPECT_EQ(f.op, opcode::text);
  EXPECT_EQ(f.payload.size(), 256U);
  EXPECT_EQ(f.consumed, frame.size());
  EXPECT_EQ(parse_frame(std::string_view(frame).substr(0, 100), f), parse_status::need_more);

  std::string masked;
  append_frame(masked, opcode::close, "\x03\xe8", 0x01020304U);
  EXPECT_EQ(parse_frame(masked, f), parse_status::protocol_error);
}

}  // namespace
}  // namespace progress::bench
