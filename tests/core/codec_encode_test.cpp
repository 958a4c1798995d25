// The hand encoder writes canonical JSON: the bytes nlohmann's dump() gives for the same value
// (keys in byte order, no spaces, invalid UTF-8 replaced by U+FFFD), which is what clients and the
// stores have always read. Every frame, a large one, and user JSON of every type.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "progress/codec.hpp"

namespace progress {
namespace {

std::string canonical(const std::string& text) {
  return Json::parse(text).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string nlohmann_dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

ProgressEvent event_with(std::string text) {
  ProgressEvent p;
  p.process_id = "job-1";
  p.epoch = "0badf00d";
  p.seq = 18446744073709551615ULL;
  p.state = State::running;
  p.stage = text;
  p.percent = 42.5;
  p.message = std::move(text);
  p.data = Json{{"page", 3}, {"note", "a\"b"}};
  p.ts = -1;
  return p;
}

const std::vector<std::string>& awkward_texts() {
  static const std::vector<std::string> texts = {
      "", "plain", "quote \" backslash \\ slash /", "ctl \x01\x1f\x7f \b\f\n\r\t", std::string("nul \0 here", 10),
      "caf\xC3\xA9 日本 😀", "bad \xC3\x28 utf8", "cut \xF0\x9F\x98", "surrogate \xED\xA0\x80", "lone \xFF\xFE",
      "overlong \xE0\x80\xAF", "past max \xF4\x90\x80\x80", "\x80 leading continuation"};
  return texts;
}

TEST(CodecEncode, StringsAreEscapedAndRepairedAsNlohmannDoes) {
  for (const auto& text : awkward_texts()) {
    EXPECT_EQ(encode_json(Json(text)), nlohmann_dump(Json(text))) << text;
    EXPECT_EQ(encode_json(Json{{text, text}}), nlohmann_dump(Json{{text, text}})) << text;
  }
}

TEST(CodecEncode, UserJsonOfEveryTypeIsWrittenAsNlohmannWritesIt) {
  const Json rich = {{"f", 1.5},          {"neg", -2},          {"u", 18446744073709551615ULL},
                     {"b", true},         {"n", nullptr},       {"arr", {1, {{"k\n\"", "v\x01"}}, Json::array()}},
                     {"big", 1e300},      {"tiny", 5e-324},     {"empty", Json::object()},
                     {"whole", 100.0},    {"nan", std::nan("")}, {"caf\xC3\xA9", "\xF0\x9F\x98\x80"}};
  EXPECT_EQ(encode_json(rich), nlohmann_dump(rich));
}

TEST(CodecEncode, ProgressEventsAreCanonical) {
  for (const auto& text : awkward_texts()) {
    const std::string bytes = encode_event(event_with(text));
    EXPECT_EQ(bytes, canonical(bytes)) << text;
    EXPECT_EQ(bytes, encode(ServerFrame{event_with(text)}));
  }
  for (double percent : {0.0, -0.0, 100.0, 33.333333333333336, 1e-7, 99.99999999999999}) {
    ProgressEvent p = event_with("x");
    p.percent = percent;
    const std::string bytes = encode_event(p);
    EXPECT_EQ(bytes, canonical(bytes)) << percent;
  }
  ProgressEvent terminal = event_with("done");
  terminal.state = State::failed;
  terminal.result = Json::array({1, "two", nullptr});
  terminal.error = Json{{"code", "E1"}, {"message", "bad \xC3\x28"}};
  EXPECT_EQ(encode_event(terminal), canonical(encode_event(terminal)));
  EXPECT_EQ(encode_event(event_with("s")),
            R"({"data":{"note":"a\"b","page":3},"epoch":"0badf00d","message":"s","percent":42.5,)"
            R"("process_id":"job-1","seq":18446744073709551615,"stage":"s","state":"running","ts":-1,)"
            R"("type":"progress"})");
}

// The encoder writes into a 1 KiB stack buffer and starts again on a string when a frame outgrows it.
TEST(CodecEncode, FramesLargerThanTheStackBufferAreWholeAndCanonical) {
  ProgressEvent big = event_with(std::string(700, 'm') + "\n\"");
  Json data = Json::object();
  for (int i = 0; i < 60; ++i) data["key " + std::to_string(i)] = std::string(40, 'v') + "\t\u00e9";
  big.data = data;
  big.result = Json::array({std::string(300, 'r'), 1.25});
  const std::string bytes = encode_event(big);
  ASSERT_GT(bytes.size(), 4000u);
  EXPECT_EQ(bytes, canonical(bytes));
  EXPECT_EQ(Json::parse(bytes)["data"], data);
  const Ack long_id{std::string(1500, 'i'), "job-1", 9};
  EXPECT_EQ(encode(ServerFrame{long_id}), R"({"id":")" + long_id.id + R"(","process_id":"job-1","seq":9,"type":"ack"})");
}

TEST(CodecEncode, EveryFrameIsCanonical) {
  Snapshot snapshot;
  snapshot.process_id = "job-1";
  snapshot.epoch = "e";
  snapshot.stages = {StageSpan{"read", 1, 2}, StageSpan{"score", 2, std::nullopt}};
  snapshot.result = Json{{"pages", 7}};
  Publish publish;
  publish.id = "1";
  publish.process_id = "job-1";
  publish.state = State::completed;
  publish.stage = "s";
  publish.percent = 12.5;
  publish.message = "m";
  publish.data = Json{{"k", 1}};
  publish.result = Json(true);
  publish.error = Json("e");
  publish.lease_ms = 5;
  publish.idempotency_key = "k";
  const std::vector<ServerFrame> server = {
      Hello{1, 20000, "progress-hub"}, snapshot, event_with("x"), Pending{"job-1"},
      Error{ErrorCode::not_found, "gone", "job-1", "7"}, Ping{5}, Pong{std::nullopt}, Ack{"1", "job-1", 3},
      Health{2, 3, 4}};
  for (const auto& frame : server) {
    const std::string bytes = encode(frame);
    EXPECT_EQ(bytes, canonical(bytes));
  }
  Publish minimal;
  minimal.process_id = "job-1";
  const std::vector<ClientFrame> client = {Subscribe{"job-1", 4, "e", "t"}, Unsubscribe{"job-1"}, Ping{1},
                                           Pong{2}, publish, minimal};
  for (const auto& frame : client) {
    const std::string bytes = encode(frame);
    EXPECT_EQ(bytes, canonical(bytes));
  }
  EXPECT_EQ(encode_record(snapshot), canonical(encode_record(snapshot)));
  EXPECT_FALSE(Json::parse(encode_record(snapshot)).contains("type"));
  EXPECT_EQ(encode_http_error(Error{ErrorCode::not_found, "gone \xFF", std::nullopt, std::nullopt}),
            "{\"error\":{\"code\":\"not_found\",\"message\":\"gone \xEF\xBF\xBD\"}}");
}

}  // namespace
}  // namespace progress
