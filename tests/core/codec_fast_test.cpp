// The publish hot path's codec (core/src/codec_fast*) must be invisible: whenever the fast decoder
// answers, the full decoder gives the same frame; the string-append encoders give nlohmann's bytes.
// Inputs: every codec vector plus hand-picked edges of JSON the fast path has to get right or refuse.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "codec_fast.hpp"
#include "embedded_vectors.hpp"
#include "progress/codec.hpp"

namespace progress {
namespace {

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Checks both decoders on `text`; returns whether the fast path answered.
bool same_decode(const std::string& text) {
  const Result<ClientFrame> full = codec_fast::decode_client_frame_full(text);
  const std::optional<ClientFrame> fast = codec_fast::decode_client_frame(text);
  const Result<ClientFrame> public_path = decode_client_frame(text);
  EXPECT_EQ(public_path.ok(), full.ok()) << text;
  if (full.ok() && public_path.ok()) {
    EXPECT_EQ(encode(public_path.value()), encode(full.value())) << text;
  } else if (!full.ok() && !public_path.ok()) {
    EXPECT_EQ(public_path.error(), full.error()) << text;
  }
  if (!fast) return false;
  EXPECT_TRUE(full.ok()) << "fast path accepted what the full decoder refuses: " << text;
  if (!full.ok()) return true;
  EXPECT_TRUE(*fast == full.value()) << text;
  EXPECT_EQ(encode(*fast), encode(full.value())) << text;
  return true;
}

std::vector<std::string> vector_inputs(const char* direction) {
  std::vector<std::string> inputs;
  for (const auto& file : vectors::embedded_files()) {
    const Json doc = Json::parse(file.text);
    if (doc.value("suite", "") != "codec") continue;
    for (const Json& c : doc.at("cases")) {
      if (c.value("direction", "") != direction || c.contains("input_repeat")) continue;
      inputs.push_back(c.at("input").get<std::string>());
    }
  }
  return inputs;
}

TEST(CodecFastDecode, EveryClientVectorDecodesAlikeAndTheCommonOnesTakeTheFastPath) {
  const auto inputs = vector_inputs("client");
  ASSERT_GT(inputs.size(), 40U);
  std::size_t answered = 0;
  for (const auto& input : inputs) answered += same_decode(input) ? 1 : 0;
  // Most vectors are errors (the full path's business); the valid ones are plain frames.
  EXPECT_GT(answered, 15U);
}

TEST(CodecFastDecode, TheLoadGeneratorsPublishTakesTheFastPath) {
  const std::string frame =
      R"({"type":"publish","id":"41","process_id":"bench-7","data":{"bench_t":1234567890123,"bench_n":41}})";
  EXPECT_TRUE(same_decode(frame));
  auto fast = codec_fast::decode_client_frame(frame);
  ASSERT_TRUE(fast);
  const auto& publish = std::get<Publish>(*fast);
  EXPECT_EQ(publish.id, "41");
  EXPECT_EQ(publish.process_id, "bench-7");
  EXPECT_EQ(publish.data, (Json{{"bench_t", 1234567890123}, {"bench_n", 41}}));
}

TEST(CodecFastDecode, PlainFramesOfEveryTypeTakeTheFastPath) {
  for (const char* text : {
           R"({"type":"subscribe","process_id":"job-1","after_seq":3,"epoch":"e1","token":"t"})",
           R"({"type":"unsubscribe","process_id":"job-1"})",
           R"({"type":"ping","ts":-5})",
           R"({"type":"pong"})",
           R"( { "type" : "publish" , "process_id" : "a:b.c_d-e", "state":"completed", "stage":"s",
                "percent": 12.5, "message":"caf\u00e9 \"q\" \\ \/ \n", "result":[1,{"x":null}],
                "error":"boom", "lease_ms":0 } )",
           R"({"type":"publish","process_id":"j","message":"日本語 ✓ 😀"})",
           R"({"type":"publish","process_id":"j","percent":1e2,"data":{"n":-0,"f":1.5e-3}})",
           R"({"type":"publish","process_id":"j","percent":5,"idempotency_key":"k-1"})",
       }) {
    EXPECT_TRUE(same_decode(text)) << text;
  }
}

TEST(CodecFastDecode, TrickyInputsDecodeAlikeWhicheverPathAnswers) {
  const std::vector<std::string> inputs = {
      // keys and strings
      R"({"\u0074ype":"ping"})",
      R"({"type":"ping","type":"pong"})",
      R"({"type":"publish","process_id":"j","process_id":"k"})",
      R"({"type":"publish","process_id":"j","message":"\ud83d\ude00"})",
      R"({"type":"publish","process_id":"j","message":"\ud83d"})",
      R"({"type":"publish","process_id":"j","message":"\u0000"})",
      R"({"type":"publish","process_id":"j","message":"\x"})",
      R"({"type":"publish","process_id":"j","message":"a)" "\x01" R"("})",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xC3\x28\"}",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xED\xA0\x80\"}",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xF4\x90\x80\x80\"}",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xE0\x80\xAF\"}",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xF0\x9F\x98\"}",
      "\xEF\xBB\xBF{\"type\":\"ping\"}",
      R"({"type":"publish","process_id":"j\u002e"})",
      R"({"type":"publish","process_id":"j k"})",
      R"({"type":"unknown"})",
      R"({"type":5})",
      R"({"type":"ping","extra":1})",
      // numbers
      R"({"type":"publish","process_id":"j","percent":-0})",
      R"({"type":"publish","process_id":"j","percent":-0.0})",
      R"({"type":"publish","process_id":"j","percent":100.0000000000000001})",
      R"({"type":"publish","process_id":"j","percent":100.1})",
      R"({"type":"publish","process_id":"j","percent":1E1})",
      R"({"type":"publish","process_id":"j","percent":5e-324})",
      R"({"type":"publish","process_id":"j","percent":1e-400})",
      R"({"type":"publish","process_id":"j","percent":1e400})",
      R"({"type":"publish","process_id":"j","percent":01})",
      R"({"type":"publish","process_id":"j","percent":1.})",
      R"({"type":"publish","process_id":"j","percent":.5})",
      R"({"type":"publish","process_id":"j","percent":+1})",
      R"({"type":"publish","process_id":"j","percent":"50"})",
      R"({"type":"publish","process_id":"j","lease_ms":-1})",
      R"({"type":"publish","process_id":"j","lease_ms":1.0})",
      R"({"type":"publish","process_id":"j","lease_ms":99999999999999999999})",
      R"({"type":"publish","process_id":"j","lease_ms":86400000})",
      R"({"type":"publish","process_id":"j","lease_ms":86400001})",
      R"({"type":"ping","ts":9223372036854775807})",
      R"({"type":"ping","ts":-9223372036854775808})",
      R"({"type":"ping","ts":9223372036854775808})",
      R"({"type":"ping","ts":123456789012345678})",
      R"({"type":"ping","ts":1e3})",
      R"({"type":"subscribe","process_id":"j","after_seq":-0})",
      R"({"type":"subscribe","process_id":"j","after_seq":18446744073709551615})",
      R"({"type":"subscribe","process_id":"j","epoch":")" + std::string(65, 'e') + R"("})",
      R"({"type":"ping","percent":1e999})",
      // data and friends
      R"({"type":"publish","process_id":"j","data":{"a":{"b":[1,2,{"c":"}"}]},"s":"\"]"}})",
      R"({"type":"publish","process_id":"j","data":{"a":1,"a":2}})",
      R"({"type":"publish","process_id":"j","data":[1]})",
      R"({"type":"publish","process_id":"j","data":null})",
      R"({"type":"publish","process_id":"j","data":{"a":tru}})",
      R"({"type":"publish","process_id":"j","data":{"a":1e999}})",
      R"({"type":"publish","process_id":"j","data":{"a":1}x})",
      R"({"type":"publish","process_id":"j","data":{"a":"\ud83d\ude00"}})",
      R"({"type":"publish","process_id":"j","data":{"big":123456789012345678901234567890}})",
      R"({"type":"publish","process_id":"j","data":{"s":")" + std::string(5000, 'x') + R"("}})",
      R"({"type":"publish","process_id":"j","result":null,"error":{"code":"x"}})",
      R"({"type":"publish","process_id":"j","result":true})",
      R"({"type":"publish","process_id":"j","result":-1.5})",
      R"({"type":"publish","process_id":"j","error":7})",
      R"({"type":"ping","data":{"a":[}})",
      R"({"type":"ping","data":{"a":1}})",
      R"({"type":"ping","id":{"a":[}})",
      R"({"type":"ping","id":[1e999]})",
      R"({"type":"ping","ts":null})",
      R"({"type":"ping","stage":true})",
      R"({"type":"publish","process_id":"j","state":"pending"})",
      R"({"type":"publish","process_id":"j","state":"done"})",
      R"({"type":"publish","process_id":"j","stage":""})",
      // strict publishes: other frames' fields, nulls, terminal stage names, the idempotency key
      R"({"type":"publish","process_id":"j","ts":1})",
      R"({"type":"publish","process_id":"j","after_seq":1})",
      R"({"type":"publish","process_id":"j","epoch":"e"})",
      R"({"type":"publish","process_id":"j","token":"t"})",
      R"({"type":"publish","process_id":"j","progress":5})",
      R"({"type":"publish","process_id":"j","id":null,"stage":null,"percent":null,"lease_ms":null})",
      R"({"type":"publish","process_id":"j","result":null})",
      R"({"type":"publish","process_id":"j","error":null,"state":"failed"})",
      R"({"type":"publish","process_id":"j","data":null,"message":"m"})",
      R"({"type":"publish","process_id":"j","stage":"done"})",
      R"({"type":"publish","process_id":"j","stage":"Completed"})",
      R"({"type":"publish","process_id":"j","stage":"done","state":"completed"})",
      R"({"type":"publish","process_id":"j","idempotency_key":"k"})",
      R"({"type":"publish","process_id":"j","idempotency_key":""})",
      R"({"type":"publish","process_id":"j","idempotency_key":5})",
      R"({"type":"publish","process_id":"j","idempotency_key":null})",
      R"({"type":"publish","process_id":"j","idempotency_key":")" + std::string(129, 'k') + R"("})",
      R"({"type":"publish","process_id":"j","percent":NaN})",
      R"({"type":"publish","process_id":"j","data":{"x":Infinity}})",
      R"({"type":"subscribe","process_id":"j","idempotency_key":"k","progress":1})",
      R"({"type":"subscribe","process_id":"undefined"})",
      R"({"type":"publish","process_id":"None"})",
      // frame shape
      R"({})", R"([])", R"("x")", R"({"type":"ping"} x)", R"({"type":"ping",})", R"({"type":"ping"})" "\n",
      R"({"type":"ping")", R"({"type" "ping"})", "", "   ",
  };
  for (const auto& input : inputs) same_decode(input);
}

TEST(CodecFastDecode, NestingAtTheLimitDecodesAlike) {
  for (int depth : {62, 63, 64, 65}) {
    const auto n = static_cast<std::size_t>(depth);
    const std::string data = std::string(n, '[') + std::string(n, ']');
    same_decode(R"({"type":"publish","process_id":"j","result":)" + data + "}");
  }
  EXPECT_TRUE(same_decode(R"({"type":"publish","process_id":"j","result":)" + std::string(63, '[') +
                          std::string(63, ']') + "}"));
  EXPECT_FALSE(codec_fast::decode_client_frame(R"({"type":"publish","process_id":"j","result":)" +
                                               std::string(64, '[') + std::string(64, ']') + "}"));
}

// ---- encoding -----------------------------------------------------------------------------------

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

void expect_old_bytes(const ProgressEvent& p) {
  const std::string old = dump(to_json(ServerFrame{p}));
  EXPECT_EQ(encode(ServerFrame{p}), old);
  if (auto fast = codec_fast::encode_progress(p)) {
    EXPECT_EQ(*fast, old);
  }
}

TEST(CodecFastEncode, ProgressEventsMatchTheJsonEncoderByteForByte) {
  const std::vector<std::string> texts = {
      "", "plain", "quote \" backslash \\ slash /", "ctl \x01\x1f\x7f \b\f\n\r\t",
      std::string("nul \0 here", 10), "caf\xC3\xA9 日本 😀", "bad \xC3\x28 utf8", "cut \xF0\x9F\x98",
      "surrogate \xED\xA0\x80"};
  for (const auto& text : texts) expect_old_bytes(event_with(text));
  EXPECT_TRUE(codec_fast::encode_progress(event_with("caf\xC3\xA9 \x01")));
  EXPECT_FALSE(codec_fast::encode_progress(event_with("bad \xC3\x28")));

  for (double percent : {0.0, -0.0, 100.0, 33.333333333333336, 1e-7, 99.99999999999999}) {
    ProgressEvent p = event_with("x");
    p.percent = percent;
    expect_old_bytes(p);
  }
  ProgressEvent rich = event_with("data");
  rich.data = Json{{"f", 1.5},          {"neg", -2},        {"u", 18446744073709551615ULL},
                   {"b", true},         {"n", nullptr},     {"arr", {1, {{"k\n\"", "v\x01"}}, Json::array()}},
                   {"big", 1e300},      {"tiny", 5e-324},   {"empty", Json::object()},
                   {"nan", std::nan("")}, {"caf\xC3\xA9", "\xF0\x9F\x98\x80"}};
  expect_old_bytes(rich);
  EXPECT_TRUE(codec_fast::encode_progress(rich));
  Json bad_key = rich.data;
  bad_key["bad \xC3\x28 key"] = 1;
  rich.data = bad_key;
  expect_old_bytes(rich);
  EXPECT_FALSE(codec_fast::encode_progress(rich));

  ProgressEvent terminal = event_with("done");
  terminal.state = State::failed;
  terminal.result = Json::array({1, "two", nullptr});
  terminal.error = Json{{"code", "E1"}, {"message", "bad \xC3\x28"}};
  expect_old_bytes(terminal);
  terminal.data = Json::object();
  terminal.error = "plain";
  expect_old_bytes(terminal);
}

// The encoder writes into a 1 KiB stack buffer and starts again on a string when a frame outgrows it.
TEST(CodecFastEncode, EventsLargerThanTheStackBufferMatchToo) {
  ProgressEvent big = event_with(std::string(700, 'm') + "\n\"");
  Json data = Json::object();
  for (int i = 0; i < 60; ++i) data["key " + std::to_string(i)] = std::string(40, 'v') + "\t\u00e9";
  big.data = data;
  big.result = Json::array({std::string(300, 'r'), 1.25});
  const std::string old = dump(to_json(ServerFrame{big}));
  ASSERT_GT(old.size(), 4000u);
  const auto fast = codec_fast::encode_progress(big);
  ASSERT_TRUE(fast);
  EXPECT_EQ(*fast, old);

  big.stage = "bad \xC3\x28 after the buffer filled";
  expect_old_bytes(big);
  EXPECT_FALSE(codec_fast::encode_progress(big));

  const Ack long_id{std::string(1500, 'i'), "job-1", 9};
  EXPECT_EQ(*codec_fast::encode_ack(long_id), dump(to_json(ServerFrame{long_id})));
}

TEST(CodecFastEncode, AcksMatchTheJsonEncoderByteForByte) {
  for (const char* id : {"", "41", "with \"quote\"", "\xC3\xA9", "bad \xFF"}) {
    Ack a{id, "job-1", 7};
    const std::string old = dump(to_json(ServerFrame{a}));
    EXPECT_EQ(encode(ServerFrame{a}), old);
    if (auto fast = codec_fast::encode_ack(a)) {
      EXPECT_EQ(*fast, old);
    }
  }
  EXPECT_EQ(*codec_fast::encode_ack(Ack{"1", "p", 0}), R"({"id":"1","process_id":"p","seq":0,"type":"ack"})");
}

TEST(CodecFastEncode, ServerVectorsReencodeAsTheJsonEncoderDoes) {
  std::size_t checked = 0;
  for (const auto& input : vector_inputs("server")) {
    auto frame = decode_server_frame(input);
    if (!frame) continue;
    const ServerFrame& f = frame.value();
    if (!std::holds_alternative<ProgressEvent>(f) && !std::holds_alternative<Ack>(f)) continue;
    EXPECT_EQ(encode(frame.value()), dump(to_json(frame.value()))) << input;
    ++checked;
  }
  EXPECT_GT(checked, 3U);
}

}  // namespace
}  // namespace progress
