// What the codec vectors cannot say: struct-level round trips, byte-exact determinism, strings
// built in C++ (invalid UTF-8), numeric edges, and the enum/HTTP tables.
#include "progress/codec.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "progress/limits.hpp"

namespace progress {
namespace {

Snapshot full_snapshot() {
  Snapshot s;
  s.process_id = "auto_proc_3f2b8c1e-9a4d-4e6b-8c2f-1a2b3c4d5e6f_1700000000";
  s.epoch = "a1b2c3d4";
  s.seq = 9;
  s.state = State::completed;
  s.stage = "analysis";
  s.percent = 100;
  s.message = "done";
  s.data = Json{{"pages", 7}, {"eta", {{"rate", 0.5}}}};
  s.updated_at = 1700000000900;
  s.stages = {{"text_extraction", 1700000000000, 1700000000400}, {"analysis", 1700000000400, 1700000000900}};
  s.result = Json{{"words", 1200}};
  return s;
}

ProgressEvent running_event() {
  ProgressEvent p;
  p.process_id = "job-1";
  p.epoch = "0badf00d";
  p.seq = 3;
  p.state = State::running;
  p.stage = "text_extraction";
  p.percent = 42.5;
  p.message = "page 3 of 7";
  p.data = Json{{"page", 3}};
  p.ts = 1700000000300;
  return p;
}

Publish full_publish() {
  Publish p;
  p.id = "p1";
  p.process_id = "job-1";
  p.state = State::failed;
  p.stage = "analysis";
  p.percent = 60;
  p.message = "crashed";
  p.data = Json{{"k", "v"}};
  p.error = Json{{"code", "ocr"}, {"message", "engine crashed"}};
  p.lease_ms = 0;
  p.idempotency_key = "k-1";
  return p;
}

ServerFrame server_round_trip(const ServerFrame& frame) {
  auto r = decode_server_frame(encode(frame));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : ServerFrame{Error{}};
}

ClientFrame client_round_trip(const ClientFrame& frame) {
  auto r = decode_client_frame(encode(frame));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : ClientFrame{Ping{}};
}

TEST(CodecRoundTrip, EveryServerFrameDecodesToTheSameStruct) {
  Snapshot open_stage = full_snapshot();
  open_stage.state = State::running;
  open_stage.stages.back().ended_at.reset();
  open_stage.result.reset();
  ProgressEvent failed = running_event();
  failed.state = State::failed;
  failed.error = Json("disk full");
  const ServerFrame frames[] = {
      Hello{1, 20000, "progress-hub/0.1.0"},
      full_snapshot(),
      open_stage,
      running_event(),
      failed,
      Pending{"job-1"},
      Error{ErrorCode::process_finished, "job-1 is completed", "job-1", "p1"},
      Error{ErrorCode::bad_frame, "frame is not valid JSON", std::nullopt, std::nullopt},
      Ping{1700000000000},
      Ping{},
      Pong{-5},
      Ack{"p1", "job-1", 12},
      Health{3, 10, 3600},
  };
  for (const auto& frame : frames) EXPECT_EQ(server_round_trip(frame), frame) << encode(frame);
}

TEST(CodecRoundTrip, EveryClientFrameDecodesToTheSameStruct) {
  Publish minimal;
  minimal.process_id = "job-1";
  Publish with_result;
  with_result.process_id = "job-1";
  with_result.state = State::completed;
  with_result.result = Json::array();  // any JSON but null, which on the wire means absent
  const ClientFrame frames[] = {
      Subscribe{"job-1", std::nullopt, std::nullopt, std::nullopt},
      Subscribe{"job-1", 0, "a1b2c3d4", "tok"},
      Unsubscribe{"job-1"},
      Ping{42},
      Pong{},
      minimal,
      with_result,
      full_publish(),
  };
  for (const auto& frame : frames) EXPECT_EQ(client_round_trip(frame), frame) << encode(frame);
}

TEST(CodecRoundTrip, PublishBodyEqualsTheFrameItWasCopiedFrom) {
  Publish p = full_publish();
  Json body = to_json(ClientFrame{p});
  body.erase("type");
  body.erase("process_id");
  auto r = decode_publish_body(body.dump(), "job-1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), p);
}

TEST(CodecEncode, IsDeterministicAndIndependentOfConstructionOrder) {
  Snapshot a = full_snapshot();
  Snapshot b;  // same values, assigned in a different order, data keys inserted the other way round
  b.stages = a.stages;
  b.result = a.result;
  Json data = Json::object();
  data["eta"] = Json{{"rate", 0.5}};
  data["pages"] = 7;
  b.data = std::move(data);
  b.updated_at = a.updated_at;
  b.message = a.message;
  b.percent = a.percent;
  b.stage = a.stage;
  b.state = a.state;
  b.seq = a.seq;
  b.epoch = a.epoch;
  b.process_id = a.process_id;
  EXPECT_EQ(encode(ServerFrame{a}), encode(ServerFrame{a}));
  EXPECT_EQ(encode(ServerFrame{a}), encode(ServerFrame{b}));
}

TEST(CodecEncode, WireTextIsCompactWithSortedKeysAndIntegralPercent) {
  // Pinned text: the browser, the CLI and the vectors all see exactly this.
  ProgressEvent p = running_event();
  p.percent = 50;
  EXPECT_EQ(
      encode(ServerFrame{p}),
      R"({"data":{"page":3},"epoch":"0badf00d","message":"page 3 of 7","percent":50,"process_id":"job-1",)"
      R"("seq":3,"stage":"text_extraction","state":"running","ts":1700000000300,"type":"progress"})");
  EXPECT_EQ(encode(ServerFrame{Pending{"job-1"}}), R"({"process_id":"job-1","type":"pending"})");
  EXPECT_EQ(encode(ClientFrame{Ping{}}), R"({"type":"ping"})");
}

TEST(CodecEncode, OptionalFieldsAreOmittedNotNull) {
  const Json snapshot = to_json(ServerFrame{Snapshot{}});
  EXPECT_FALSE(snapshot.contains("result"));
  EXPECT_FALSE(snapshot.contains("error"));
  Snapshot open_stage = full_snapshot();
  open_stage.stages.back().ended_at.reset();
  EXPECT_FALSE(to_json(ServerFrame{open_stage})["stages"][1].contains("ended_at"));
  const Json error = to_json(ServerFrame{Error{ErrorCode::not_found, "gone", std::nullopt, std::nullopt}});
  EXPECT_FALSE(error.contains("process_id"));
  EXPECT_FALSE(error.contains("id"));
  Publish minimal;
  minimal.process_id = "job-1";
  EXPECT_EQ(to_json(ClientFrame{minimal}), (Json{{"type", "publish"}, {"process_id", "job-1"}}));
}

TEST(CodecEncode, RecordJsonIsTheSnapshotWithoutType) {
  Json record = to_json(full_snapshot());
  Json frame = to_json(ServerFrame{full_snapshot()});
  EXPECT_FALSE(record.contains("type"));
  frame.erase("type");
  EXPECT_EQ(record, frame);
}

TEST(CodecEncode, HttpErrorBody) {
  Error e{ErrorCode::process_finished, "job-1 is completed", "job-1", std::nullopt};
  EXPECT_EQ(Json::parse(encode_http_error(e)),
            (Json{{"error", {{"code", "process_finished"}, {"message", "job-1 is completed"}}}}));
}

TEST(CodecUtf8, TextSurvivesTheRoundTripByteForByte) {
  ProgressEvent p = running_event();
  p.stage = "Texterkennung \xE2\x80\x93 Seite \xE2\x91\xA0";  // en dash, circled one
  p.message = "\xE8\xA7\xA3\xE6\x9E\x90 \xF0\x9F\x9A\x80";    // CJK and a 4-byte emoji
  EXPECT_EQ(server_round_trip(p), ServerFrame{p});
  EXPECT_NE(encode(ServerFrame{p}).find("\xF0\x9F\x9A\x80"), std::string::npos)
      << "UTF-8 is sent raw, not escaped";
}

TEST(CodecUtf8, InvalidUtf8SetInCppIsReplacedInsteadOfThrowing) {
  ProgressEvent p = running_event();
  p.message = "upload \xFF\xFE.pdf";  // e.g. a file name in a legacy encoding
  std::string text;
  ASSERT_NO_THROW(text = encode(ServerFrame{p}));
  auto r = decode_server_frame(text);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(std::get<ProgressEvent>(r.value()).message, "upload \xEF\xBF\xBD\xEF\xBF\xBD.pdf");
}

TEST(CodecUtf8, InvalidUtf8OnTheWireIsBadFrame) {
  auto r = decode_client_frame("{\"type\":\"subscribe\",\"process_id\":\"job-1\",\"epoch\":\"\xC3\x28\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::bad_frame);
}

TEST(CodecUtf8, LimitsCountCharactersNotBytes) {
  Publish p;
  p.process_id = "job-1";
  std::string stage;
  for (std::size_t i = 0; i < limits::kMaxStageLength; ++i) stage += "\xF0\x9F\x9A\x80";  // 4 bytes each
  p.stage = stage;
  EXPECT_FALSE(validate(p).has_value());
  p.stage = stage + "x";
  ASSERT_TRUE(validate(p).has_value());
  EXPECT_EQ(validate(p)->code, ErrorCode::invalid_update);
}

TEST(CodecNumbers, ExtremeIntegersAreExact) {
  ProgressEvent p = running_event();
  p.seq = std::numeric_limits<Seq>::max();
  p.ts = std::numeric_limits<Millis>::min();
  EXPECT_EQ(server_round_trip(p), ServerFrame{p});
  Health h{std::numeric_limits<std::uint64_t>::max(), 0, std::numeric_limits<std::int64_t>::max()};
  EXPECT_EQ(server_round_trip(h), ServerFrame{h});
}

TEST(CodecNumbers, TimestampBeyondInt64IsBadFrame) {
  auto r = decode_client_frame(R"({"type":"ping","ts":9223372036854775808})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::bad_frame);
  EXPECT_NE(r.error().message.find("ts"), std::string::npos);
}

TEST(CodecNumbers, NegativeZeroPercentIsZero) {
  auto r = decode_client_frame(R"({"type":"publish","process_id":"job-1","percent":-0.0})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const double percent = *std::get<Publish>(r.value()).percent;
  EXPECT_EQ(percent, 0.0);
  EXPECT_FALSE(std::signbit(percent));
  EXPECT_EQ(encode(r.value()), R"({"percent":0,"process_id":"job-1","type":"publish"})");
}

TEST(CodecNumbers, NonFinitePercentSetInCppFailsValidation) {
  Publish p;
  p.process_id = "job-1";
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), -1e-9,
                     100.000001}) {
    p.percent = bad;
    auto error = validate(p);
    ASSERT_TRUE(error.has_value()) << bad;
    EXPECT_EQ(error->code, ErrorCode::invalid_update);
    EXPECT_EQ(error->process_id, "job-1");
  }
}

TEST(CodecNumbers, NonIntegralPercentKeepsFullPrecision) {
  ProgressEvent p = running_event();
  p.percent = 100.0 / 3.0;
  EXPECT_EQ(server_round_trip(p), ServerFrame{p});
}

std::string nested_data(int levels) {
  return R"({"type":"publish","process_id":"job-1","data":{"x":)" +
         std::string(static_cast<std::size_t>(levels), '[') +
         std::string(static_cast<std::size_t>(levels), ']') + "}}";
}

TEST(CodecNesting, DepthBoundIsSixtyFourLevels) {
  // The frame object and `data` are two levels; the arrays make up the rest.
  EXPECT_TRUE(decode_client_frame(nested_data(62)).ok());
  auto r = decode_client_frame(nested_data(63));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::bad_frame);
}

TEST(CodecNesting, HugeDepthIsRefusedWithoutRecursion) {
  auto r = decode_server_frame(std::string(1'000'000, '['));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::bad_frame);
  EXPECT_NE(r.error().message.find("deeper"), std::string::npos);
}

TEST(CodecValidate, ChecksStructsBuiltWithoutTheDecoder) {
  // The HTTP layer and tools build Publish structs directly; validate() is their only gate.
  Publish p;
  p.process_id = "bad id";
  p.id = "p9";
  auto e = validate(p);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, ErrorCode::invalid_process_id);
  EXPECT_EQ(e->id, "p9");

  p.process_id = "job-1";
  p.state = State::pending;
  e = validate(p);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, ErrorCode::invalid_update);
  EXPECT_EQ(e->id, "p9");

  p.state = State::running;
  p.data = Json::array();
  EXPECT_EQ(validate(p)->code, ErrorCode::invalid_update);
  p.data = Json::object();
  p.error = Json(3);
  EXPECT_EQ(validate(p)->code, ErrorCode::invalid_update);
  p.error.reset();
  p.lease_ms = limits::kMaxLeaseMs + 1;
  EXPECT_EQ(validate(p)->code, ErrorCode::invalid_update);
  p.lease_ms = limits::kMaxLeaseMs;
  EXPECT_FALSE(validate(p).has_value());
  p.id = std::string(limits::kMaxPublishIdLength + 1, 'i');
  e = validate(p);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->id.has_value()) << "an over-long id is not echoed";
}

TEST(CodecDecode, NeverThrowsOnArbitraryBytes) {
  const std::string inputs[] = {
      std::string("\0\0\0", 3),
      "\xFF",
      "{",
      "}",
      "[[[",
      "{\"type\":",
      "\"\\u",
      "1e",
      "{\"type\":\"publish\",\"process_id\":\"a\",\"data\":{\"k\":[1,2,{\"x\":tru}]}}"};
  for (const auto& input : inputs) {
    EXPECT_NO_THROW({
      auto c = decode_client_frame(input);
      auto s = decode_server_frame(input);
      auto b = decode_publish_body(input, "job-1");
      EXPECT_FALSE(c.ok());
      EXPECT_FALSE(s.ok());
      EXPECT_FALSE(b.ok());
      EXPECT_EQ(c.error().code, ErrorCode::bad_frame);
    });
  }
}

TEST(ProtocolTables, EveryErrorCodeRoundTripsAndHasItsHttpStatus) {
  const std::pair<ErrorCode, int> expected[] = {
      {ErrorCode::invalid_process_id, 400}, {ErrorCode::bad_frame, 400},
      {ErrorCode::unknown_type, 400},       {ErrorCode::not_found, 404},
      {ErrorCode::unauthorized, 401},       {ErrorCode::rate_limited, 429},
      {ErrorCode::too_large, 413},          {ErrorCode::process_finished, 409},
      {ErrorCode::invalid_update, 400},     {ErrorCode::unavailable, 503},
  };
  for (const auto& [code, status] : expected) {
    EXPECT_EQ(error_code_from_string(to_string(code)), code);
    EXPECT_EQ(http_status(code), status) << to_string(code);
  }
  EXPECT_EQ(to_string(ErrorCode::process_finished), "process_finished");
  EXPECT_FALSE(error_code_from_string("stalled").has_value());
  EXPECT_FALSE(error_code_from_string("").has_value());
}

TEST(ProtocolTables, EveryStateRoundTrips) {
  for (State s : {State::pending, State::running, State::completed, State::failed, State::cancelled}) {
    EXPECT_EQ(state_from_string(to_string(s)), s);
  }
  EXPECT_EQ(to_string(State::cancelled), "cancelled");
  EXPECT_FALSE(state_from_string("Running").has_value());
  EXPECT_FALSE(state_from_string("done").has_value());
}

TEST(ProtocolIds, GrammarWithoutRegex) {
  EXPECT_TRUE(is_valid_process_id("auto_proc_3f2b8c1e-9a4d-4e6b-8c2f-1a2b3c4d5e6f_1700000000"));
  EXPECT_TRUE(is_valid_process_id("Az09._:-"));
  EXPECT_TRUE(is_valid_process_id(std::string(limits::kMaxProcessIdLength, 'x')));
  EXPECT_FALSE(is_valid_process_id(std::string(limits::kMaxProcessIdLength + 1, 'x')));
  EXPECT_FALSE(is_valid_process_id(""));
  for (const char* bad : {"a b", "a/b", "a?b", "a%20", "a\nb",
                          "j\xC3\xB6"
                          "b",
                          "a+b", "a#b"}) {
    EXPECT_FALSE(is_valid_process_id(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_process_id(std::string_view("ab\0c", 4)));
}

}  // namespace
}  // namespace progress
