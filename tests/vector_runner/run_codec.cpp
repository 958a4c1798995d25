// The `codec` suite of tests/vectors/README.md. Beyond the README's keys, a case may use
// direction "body" (an HTTP progress body, decoded with `path_id`), and an error expectation may
// add "error_frame": a matcher of the error re-encoded as a wire frame (process_id/id echoes).
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "json_match.hpp"
#include "progress/codec.hpp"
#include "suites.hpp"

namespace progress::vectors {
namespace {

using nlohmann::json;

std::string case_input(const json& vcase) {
  std::string input = vcase.at("input").get<std::string>();
  if (const auto it = vcase.find("input_repeat"); it != vcase.end()) {
    const std::string marker = it->at("at").get<std::string>();
    const std::string run(it->at("count").get<std::size_t>(), it->at("char").get<std::string>().at(0));
    const auto pos = input.find(marker);
    if (pos == std::string::npos) throw std::runtime_error("input_repeat marker not found in input");
    input.replace(pos, marker.size(), run);
  }
  return input;
}

// Decodes `text` the way the case's direction says and returns the frame as wire JSON, or the
// error. The same function serves the second decode of the round-trip check.
struct Decoded {
  std::optional<json> frame;
  std::optional<Error> error;
};

Decoded decode(const std::string& direction, const std::string& text, const json& vcase) {
  if (direction == "client") {
    auto r = decode_client_frame(text);
    if (!r) return {std::nullopt, r.error()};
    return {to_json(r.value()), std::nullopt};
  }
  if (direction == "server") {
    auto r = decode_server_frame(text);
    if (!r) return {std::nullopt, r.error()};
    return {to_json(r.value()), std::nullopt};
  }
  if (direction == "body") {
    auto r = decode_publish_body(text, vcase.at("path_id").get<std::string>());
    if (!r) return {std::nullopt, r.error()};
    return {to_json(ClientFrame{r.value()}), std::nullopt};
  }
  throw std::runtime_error("unknown direction " + direction);
}

}  // namespace

void run_codec_case(const json& vcase) {
  const std::string direction = vcase.at("direction").get<std::string>();
  const std::string input = case_input(vcase);
  const json& expect = vcase.at("expect");
  JsonMatcher matcher;
  std::string why;

  const Decoded first = decode(direction, input, vcase);
  if (expect.contains("error")) {
    ASSERT_TRUE(first.error.has_value())
        << "expected error " << expect["error"] << ", decoded " << first.frame->dump();
    EXPECT_EQ(to_string(first.error->code), expect["error"].get<std::string>()) << first.error->message;
    EXPECT_FALSE(first.error->message.empty());
    if (expect.contains("message_contains")) {
      EXPECT_NE(first.error->message.find(expect["message_contains"].get<std::string>()), std::string::npos)
          << "message: " << first.error->message;
    }
    if (expect.contains("error_frame")) {
      const json wire = json::parse(encode(ServerFrame{*first.error}));
      EXPECT_TRUE(matcher.match(expect["error_frame"], wire, why)) << why;
    }
    return;
  }

  ASSERT_FALSE(first.error.has_value())
      << "unexpected error " << to_string(first.error->code) << ": " << first.error->message;
  EXPECT_TRUE(matcher.match(expect.at("frame"), *first.frame, why))
      << why << "\nframe: " << first.frame->dump();

  // Round trip: what we encode must decode to the same frame. A body re-encodes as a publish
  // frame, so its second decode goes through the client path.
  const std::string again_direction = direction == "body" ? "client" : direction;
  const Decoded second = decode(again_direction, first.frame->dump(), vcase);
  ASSERT_FALSE(second.error.has_value()) << "re-encoded frame did not decode: " << second.error->message;
  EXPECT_EQ(*second.frame, *first.frame);
}

}  // namespace progress::vectors
