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

}  // namespace
}  // namespace progress
