// The one decoder (core/src/json_scan.*, frame_fields.*, decode_*.cpp) decides every input itself.
// What it is held to beyond the vectors: it accepts exactly the JSON nlohmann accepts (the library
// that holds user JSON is the reference for the syntax), it builds user JSON to the same values,
// every frame it accepts survives encode -> decode -> encode unchanged, and depth stays bounded.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "embedded_vectors.hpp"
#include "json_scan.hpp"
#include "progress/codec.hpp"

namespace progress {
namespace {

bool has(const Error& e, std::string_view text) { return e.message.find(text) != std::string::npos; }

// The scanner's own refusals, told apart by their fixed wording (a message may echo user text).
bool is_syntax(const Error* e) {
  return e != nullptr && e->message.starts_with("frame is not valid JSON (syntax error at byte ");
}
bool is_non_finite(const Error* e) {
  return e != nullptr && e->code == ErrorCode::invalid_update &&
         e->message.ends_with(": numbers must be finite (JSON has no NaN or Infinity; leave the field out or send null)");
}
bool is(const Error* e, std::string_view message) { return e != nullptr && e->message == message; }

// How nlohmann reads the text: accepted (and then whether as an object), a syntax error, or a
// number overflowing a double.
enum class Reference { object, other_value, syntax_error, overflow };

Reference nlohmann_reads(const std::string& text) {
  try {
    return Json::parse(text).is_object() ? Reference::object : Reference::other_value;
  } catch (const Json::parse_error&) {
    return Reference::syntax_error;
  } catch (const Json::out_of_range&) {
    return Reference::overflow;
  }
}

// The decoder's verdict on the text as JSON agrees with nlohmann's. `producer` is the client
// direction, where NaN and Infinity are an invalid update instead of a syntax error.
void same_syntax_verdict(const std::string& text, const Error* error, bool producer) {
  const Reference reference = nlohmann_reads(text);
  if (is(error, "frame nests deeper than 64 levels")) return;  // the depth tests pin the bound
  const bool too_large = is(error, "frame holds a number too large for a 64-bit float");
  const std::string said = error != nullptr ? error->message : "ok";
  switch (reference) {
    case Reference::syntax_error:
      EXPECT_TRUE(is_syntax(error) || (producer && is_non_finite(error))) << "nlohmann refuses, decoder said "
                                                                         << said << ": " << text;
      break;
    case Reference::overflow:
      EXPECT_TRUE(too_large) << said << ": " << text;
      break;
    case Reference::other_value:
      EXPECT_TRUE(is(error, "a frame must be a JSON object")) << said << ": " << text;
      break;
    case Reference::object:
      EXPECT_FALSE(is_syntax(error) || is_non_finite(error) || too_large)
          << "nlohmann accepts, decoder said " << said << ": " << text;
      break;
  }
}

void check_user_json(const std::string& text, const std::optional<Json>& value, const char* key) {
  const Json reference = Json::parse(text);
  if (!reference.contains(key) || reference[key].is_null()) return;
  ASSERT_TRUE(value.has_value()) << key << ": " << text;
  EXPECT_EQ(*value, reference[key]) << key << ": " << text;
  EXPECT_EQ(value->dump(), reference[key].dump()) << key << " (number types): " << text;
}

// Decodes `text` in both directions and as a body, checking each against nlohmann and the round
// trip. Returns whether the client decode succeeded.
bool check_decode(const std::string& text) {
  const Result<ClientFrame> client = decode_client_frame(text);
  same_syntax_verdict(text, client ? nullptr : &client.error(), true);
  if (client) {
    const std::string encoded = encode(client.value());
    const Result<ClientFrame> again = decode_client_frame(encoded);
    EXPECT_TRUE(again.ok()) << encoded;
    if (again) {
      EXPECT_TRUE(again.value() == client.value()) << encoded;
      EXPECT_EQ(encode(again.value()), encoded);
    }
    if (const auto* p = std::get_if<Publish>(&client.value())) {
      check_user_json(text, p->data, "data");
      check_user_json(text, p->result, "result");
      check_user_json(text, p->error, "error");
    }
  }
  const Result<ServerFrame> server = decode_server_frame(text);
  same_syntax_verdict(text, server ? nullptr : &server.error(), false);
  if (server) {
    const std::string encoded = encode(server.value());
    const Result<ServerFrame> again = decode_server_frame(encoded);
    EXPECT_TRUE(again.ok()) << encoded;
    if (again) {
      EXPECT_EQ(encode(again.value()), encoded);
    }
  }
  const Result<Publish> body = decode_publish_body(text, "j");
  same_syntax_verdict(text, body ? nullptr : &body.error(), true);
  return client.ok();
}

std::vector<std::string> vector_inputs() {
  std::vector<std::string> inputs;
  for (const auto& file : vectors::embedded_files()) {
    const Json doc = Json::parse(file.text);
    if (doc.value("suite", "") != "codec") continue;
    for (const Json& c : doc.at("cases")) {
      if (!c.contains("input_repeat")) inputs.push_back(c.at("input").get<std::string>());
    }
  }
  return inputs;
}

TEST(CodecDecode, EveryCodecVectorAgreesWithNlohmannAndRoundTrips) {
  const auto inputs = vector_inputs();
  ASSERT_GT(inputs.size(), 100U);
  for (const auto& input : inputs) check_decode(input);
}

TEST(CodecDecode, TheLoadGeneratorsPublishDecodes) {
  const Result<ClientFrame> r = decode_client_frame(
      R"({"type":"publish","id":"41","process_id":"bench-7","data":{"bench_t":1234567890123,"bench_n":41}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& publish = std::get<Publish>(r.value());
  EXPECT_EQ(publish.id, "41");
  EXPECT_EQ(publish.process_id, "bench-7");
  EXPECT_EQ(publish.data, (Json{{"bench_t", 1234567890123}, {"bench_n", 41}}));
}

TEST(CodecDecode, TrickyInputsAgreeWithNlohmann) {
  const std::vector<std::string> inputs = {
      // keys and strings
      R"({"\u0074ype":"ping"})",
      R"({"type":"ping","type":"pong"})",
      R"({"type":"publish","process_id":"j","process_id":"k"})",
      R"({"type":"publish","process_id":"j","message":"\ud83d\ude00"})",
      R"({"type":"publish","process_id":"j","message":"\ud83d"})",
      R"({"type":"publish","process_id":"j","message":"\ud83dx"})",
      R"({"type":"publish","process_id":"j","message":"\ud83d\u0041"})",
      R"({"type":"publish","process_id":"j","message":"\ude00"})",
      R"({"type":"publish","process_id":"j","message":"\u0000"})",
      R"({"type":"publish","process_id":"j","message":"\u00"})",
      R"({"type":"publish","process_id":"j","message":"\x"})",
      R"({"type":"publish","process_id":"j","message":"a)" "\x01" R"("})",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xC3\x28\"}",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xED\xA0\x80\"}",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xF4\x90\x80\x80\"}",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xE0\x80\xAF\"}",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xF0\x9F\x98\"}",
      "{\"type\":\"publish\",\"process_id\":\"j\",\"message\":\"\xF0\x9F\x98\x80 \\u00e9\"}",
      "{\"type\":\"ping\",\"k\xFF\":1}",
      "\xEF\xBB\xBF{\"type\":\"ping\"}",
      "\xEF\xBB{\"type\":\"ping\"}",
      R"({"type":"publish","process_id":"j\u002e"})",
      R"({"type":"publish","process_id":"j k"})",
      R"({"type":"unknown"})",
      R"({"type":5})",
      R"({"type":"ping","extra":1})",
      // numbers
      R"({"type":"publish","process_id":"j","percent":-0})",
      R"({"type":"publish","process_id":"j","percent":-0.0})",
      R"({"type":"publish","process_id":"j","percent":100.0000000000000001})",
      R"({"type":"publish","process_id":"j","percent":1E1})",
      R"({"type":"publish","process_id":"j","percent":5e-324})",
      R"({"type":"publish","process_id":"j","percent":1e-400})",
      R"({"type":"publish","process_id":"j","percent":-1e-400})",
      R"({"type":"publish","process_id":"j","percent":0.0000e999})",
      R"({"type":"publish","process_id":"j","percent":1e400})",
      R"({"type":"publish","process_id":"j","percent":-1e400})",
      R"({"type":"publish","process_id":"j","percent":0.001e311})",
      R"({"type":"publish","process_id":"j","percent":01})",
      R"({"type":"publish","process_id":"j","percent":1.})",
      R"({"type":"publish","process_id":"j","percent":.5})",
      R"({"type":"publish","process_id":"j","percent":+1})",
      R"({"type":"publish","process_id":"j","percent":-})",
      R"({"type":"publish","process_id":"j","percent":1e})",
      R"({"type":"publish","process_id":"j","percent":"50"})",
      R"({"type":"publish","process_id":"j","lease_ms":-1})",
      R"({"type":"publish","process_id":"j","lease_ms":1.0})",
      R"({"type":"publish","process_id":"j","lease_ms":99999999999999999999})",
      R"({"type":"ping","ts":9223372036854775807})",
      R"({"type":"ping","ts":-9223372036854775808})",
      R"({"type":"ping","ts":-9223372036854775809})",
      R"({"type":"ping","ts":9223372036854775808})",
      R"({"type":"ping","ts":1e3})",
      R"({"type":"subscribe","process_id":"j","after_seq":-0})",
      R"({"type":"subscribe","process_id":"j","after_seq":18446744073709551616})",
      R"({"type":"ping","percent":1e999})",
      R"({"type":"ping","percent":NaN})",
      R"({"type":"ping","x":[1,-Infinity]})",
      R"({"type":"ping","x":-NaN})",
      R"({"type":"ping","x":nan})",
      // user JSON
      R"({"type":"publish","process_id":"j","data":{"a":{"b":[1,2,{"c":"}"}]},"s":"\"]"}})",
      R"({"type":"publish","process_id":"j","data":{"a":1,"a":2}})",
      R"({"type":"publish","process_id":"j","data":{"a":1,"a":{"b":2}}})",
      R"({"type":"publish","process_id":"j","data":{"n":-0,"f":-0.0,"u":18446744073709551615,"i":-9223372036854775808}})",
      R"({"type":"publish","process_id":"j","data":{"big":123456789012345678901234567890,"neg":-9223372036854775809}})",
      R"({"type":"publish","process_id":"j","data":{"e":1E+2,"e2":1e-2,"pi":3.141592653589793238462643383279}})",
      R"({"type":"publish","process_id":"j","data":{"s":"\u00e9\/\b\f\n\r\t\"\\","t":true,"f":false,"n":null}})",
      R"({"type":"publish","process_id":"j","data":{"":[],"x":{}}})",
      R"({"type":"publish","process_id":"j","data":[1]})",
      R"({"type":"publish","process_id":"j","data":null})",
      R"({"type":"publish","process_id":"j","data":{"a":tru}})",
      R"({"type":"publish","process_id":"j","data":{"a":1}x})",
      R"({"type":"publish","process_id":"j","data":{"a":1,}})",
      R"({"type":"publish","process_id":"j","data":{"a" 1}})",
      R"({"type":"publish","process_id":"j","data":[1,]})",
      R"({"type":"publish","process_id":"j","data":{"s":")" + std::string(5000, 'x') + R"("}})",
      R"({"type":"publish","process_id":"j","state":"completed","result":[1,{"x":null},"s",2.5]})",
      R"({"type":"publish","process_id":"j","state":"failed","error":{"code":"x","message":"y"}})",
      R"({"type":"ping","data":{"a":[}})",
      // frame shape
      R"({})", R"([])", R"("x")", R"(5)", R"(null)", R"({"type":"ping"} x)", R"({"type":"ping",})",
      R"({"type":"ping"})" "\n", R"({"type":"ping")", R"({"type" "ping"})", R"({"type":"ping"}})", "", "   ",
      R"({,"type":"ping"})", R"({"type":"ping",,"ts":1})", R"({"type":"ping" , "ts" : 1 } )", "\t{\"type\":\"pong\"}\r\n",
  };
  std::size_t decoded = 0;
  for (const auto& input : inputs) decoded += check_decode(input) ? 1 : 0;
  EXPECT_GT(decoded, 20U);
}

TEST(CodecDecode, ServerFramesRoundTripThroughTheScanner) {
  const std::vector<std::string> inputs = {
      R"({"type":"snapshot","process_id":"j","epoch":"e","seq":1,"state":"running","stage":"s","percent":1,)"
      R"("message":"m","data":{},"updated_at":5,"stages":[{"name":"a","started_at":1,"ended_at":2,"x":[{}]},)"
      R"({"name":"b\u00e9","started_at":2,"name":"c"}],"result":null,"error":{"code":"x"}})",
      R"({"type":"snapshot","process_id":"j","epoch":"e","seq":1,"state":"running","stage":"s","percent":1,)"
      R"("message":"m","data":{},"updated_at":5,"stages":[{"name":"a","started_at":1},5]})",
      R"({"type":"snapshot","process_id":"j","epoch":"e","seq":1,"state":"running","stage":"s","percent":1,)"
      R"("message":"m","data":{},"updated_at":5,"stages":[{"name":"a","started_at":1,"ended_at":null}]})",
      R"({"type":"hello","protocol":4294967296,"heartbeat_ms":1})",
      R"({"type":"error","code":"not_found","message":"gone","reason":"expired","id":null})",
      R"({"type":"health","connections":1,"processes":2,"uptime_s":-3})",
  };
  for (const auto& input : inputs) check_decode(input);
  const Result<ServerFrame> r = decode_server_frame(inputs[0]);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& snapshot = std::get<Snapshot>(r.value());
  ASSERT_EQ(snapshot.stages.size(), 2U);
  EXPECT_EQ(snapshot.stages[1].name, "c");  // a repeated key keeps its last value, as in JSON objects
  EXPECT_EQ(snapshot.result, Json(nullptr));
  EXPECT_EQ(decode_server_frame(inputs[1]).error().message,
            "`stages` in snapshot must be an array of {name, started_at, ended_at?} objects");
  EXPECT_EQ(decode_server_frame(inputs[2]).error().message, "`ended_at` in a stage must be an integer");
}

TEST(CodecDecode, ARepeatedFieldKeepsItsLastValue) {
  const Result<ClientFrame> r =
      decode_client_frame(R"({"type":"publish","process_id":"j","percent":"x","percent":5,"stage":1,"stage":"s"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(std::get<Publish>(r.value()).percent, 5.0);
  EXPECT_EQ(std::get<Publish>(r.value()).stage, "s");
}

TEST(CodecDecode, AStrictPublishNamesTheLeastUnknownField) {
  const Result<ClientFrame> r =
      decode_client_frame(R"({"type":"publish","process_id":"j","zeta":1,"ts":2,"colour":"red"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_update);
  EXPECT_TRUE(has(r.error(), "unknown field `colour` in publish")) << r.error().message;
  EXPECT_EQ(r.error().process_id, "j");
}

TEST(CodecDecode, NonFiniteNumbersNameTheirFieldForProducersOnly) {
  const std::string text = R"({"type":"publish","process_id":"j","data":{"eta":[1,NaN]}})";
  EXPECT_EQ(decode_client_frame(text).error().message,
            "a number is NaN: numbers must be finite (JSON has no NaN or Infinity; leave the field out or send null)");
  EXPECT_EQ(decode_client_frame(R"({"type":"ping","x":{"eta":-Infinity}})").error().code,
            ErrorCode::invalid_update);
  EXPECT_TRUE(has(decode_client_frame(R"({"type":"ping","x":{"eta":-Infinity}})").error(), "`eta` is -Infinity"));
  EXPECT_EQ(decode_server_frame(text).error().code, ErrorCode::bad_frame);
}

TEST(CodecDecode, SyntaxErrorsSayWhere) {
  EXPECT_EQ(decode_client_frame(R"({"type":"ping",})").error().message,
            "frame is not valid JSON (syntax error at byte 16)");
  EXPECT_EQ(decode_client_frame("").error().message, "frame is not valid JSON (syntax error at byte 1)");
}

TEST(CodecDecode, ANulByteAfterTheFrameIsNotJson) {
  // nlohmann's reader stops at a NUL as if the text ended there: the decoder built on it took a
  // frame followed by a NUL and anything after as the frame alone.
  const std::string text("{\"type\":\"ping\"}\0{\"x\":1}", 23);
  const Result<ClientFrame> r = decode_client_frame(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "frame is not valid JSON (syntax error at byte 16)");
  EXPECT_FALSE(decode_server_frame(text).ok());
}

TEST(CodecDecode, DepthIsBoundedWhateverTheShape) {
  using json_scan::kMaxNestingDepth;
  for (const std::string open : {"[", "{\"a\":"}) {
    std::string deep = R"({"type":"publish","process_id":"j","result":)";
    for (int i = 0; i < 100'000; ++i) deep += open;
    for (const auto& r : {decode_client_frame(deep).error(), decode_server_frame(deep).error()}) {
      EXPECT_EQ(r.code, ErrorCode::bad_frame);
      EXPECT_EQ(r.message, "frame nests deeper than " + std::to_string(kMaxNestingDepth) + " levels");
    }
  }
  // The frame is the first level: user JSON may take the other 63.
  const auto n = static_cast<std::size_t>(kMaxNestingDepth - 1);
  const std::string at_limit = R"({"type":"publish","process_id":"j","result":)" + std::string(n, '[') +
                               std::string(n, ']') + "}";
  EXPECT_TRUE(decode_client_frame(at_limit).ok());
  const std::string past = R"({"type":"publish","process_id":"j","result":)" + std::string(n + 1, '[') +
                           std::string(n + 1, ']') + "}";
  EXPECT_TRUE(has(decode_client_frame(past).error(), "deeper"));
}

// decode_json: one value of any kind with the frames' rules (the browser session's options).
TEST(CodecDecode, DecodeJsonReadsOneValueWithTheFramesRules) {
  const Result<Json> options = decode_json(" {\"url\":\"ws://h\",\"seed\":7,\"tokens\":true,\"x\":[1.5,-2,null]} ");
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options.value(), Json::parse(R"({"url":"ws://h","seed":7,"tokens":true,"x":[1.5,-2,null]})"));
  EXPECT_TRUE(options.value()["seed"].is_number_unsigned());
  EXPECT_EQ(decode_json("[1,2]").value(), Json::parse("[1,2]"));
  EXPECT_EQ(decode_json("{} x").error().message, "frame is not valid JSON (syntax error at byte 4)");
  EXPECT_EQ(decode_json("NaN").error().code, ErrorCode::bad_frame);  // no producer leniency here
  EXPECT_TRUE(has(decode_json(std::string(100, '[')).error(), "deeper"));
}

}  // namespace
}  // namespace progress
