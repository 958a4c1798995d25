// Arbitrary bytes into the three decoders. Decoding must never throw; a decoded frame must
// survive encode -> decode unchanged (the server and the wasm client both rely on re-encoding
// what they decoded); an error must carry a code that has a wire name and a message to show.
// The decoder reads JSON itself: it must accept exactly the text nlohmann (the library that holds
// user JSON) accepts, refuse what it refuses, and build user JSON to the same values.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <variant>
#include <string>
#include <string_view>

#include "check.hpp"
#include "progress/codec.hpp"

namespace {

using progress::fuzz::check;

void check_error(const progress::Error& error, std::string_view input) {
  std::string_view name = progress::to_string(error.code);
  check(!name.empty(), "error code without a name", input);
  check(progress::error_code_from_string(name) == error.code, "error code name does not parse back", name);
  check(!error.message.empty(), "error without a message", name);
  int status = progress::http_status(error.code);
  check(status >= 400 && status < 600, "error code without an HTTP error status", name);
}

template <class Frame, class Decode>
void round_trip(std::string_view input, Decode decode) {
  progress::Result<Frame> first = decode(input);
  if (!first) {
    check_error(first.error(), input);
    return;
  }
  std::string text = progress::encode(first.value());
  progress::Result<Frame> second = decode(text);
  check(second.ok(), "re-encoded frame does not decode", text);
  check(second.value() == first.value(), "re-encoded frame decodes to another value", text);
}

// nlohmann's verdict on the text as JSON: 0 an object, 1 another value, 2 a syntax error, 3 a
// number beyond a double. Inputs are short (libFuzzer's max_len), so its depth stays small.
int nlohmann_verdict(std::string_view input, progress::Json* object) {
  try {
    progress::Json j = progress::Json::parse(input.begin(), input.end());
    if (!j.is_object()) return 1;
    *object = std::move(j);
    return 0;
  } catch (const progress::Json::parse_error&) {
    return 2;
  } catch (const progress::Json::out_of_range&) {
    return 3;
  }
}

// The scanner's own refusals, told apart by their fixed wording (a message may echo user text).
bool is_syntax(const progress::Error* e) {
  return e != nullptr && e->message.starts_with("frame is not valid JSON (syntax error at byte ");
}
bool is_non_finite(const progress::Error* e) {
  return e != nullptr && e->code == progress::ErrorCode::invalid_update &&
         e->message.ends_with(": numbers must be finite (JSON has no NaN or Infinity; leave the field out or send null)");
}
bool is(const progress::Error* e, std::string_view message) { return e != nullptr && e->message == message; }

void same_json_as_nlohmann(std::string_view input) {
  progress::Result<progress::ClientFrame> client = progress::decode_client_frame(input);
  progress::Result<progress::ServerFrame> server = progress::decode_server_frame(input);
  // nlohmann's reader takes a NUL byte for the end of the text; JSON has no place for one.
  if (input.find('\0') != std::string_view::npos) {
    check(!client.ok() && !server.ok(), "a frame holding a NUL byte was accepted", input);
    return;
  }
  progress::Json object;
  const int verdict = nlohmann_verdict(input, &object);
  for (const progress::Error* error : {client ? nullptr : &client.error(), server ? nullptr : &server.error()}) {
    if (is(error, "frame nests deeper than 64 levels")) continue;
    const bool too_large = is(error, "frame holds a number too large for a 64-bit float");
    switch (verdict) {
      case 0:
        check(!is_syntax(error) && !is_non_finite(error) && !too_large, "decoder refuses JSON nlohmann accepts", input);
        break;
      case 1: check(is(error, "a frame must be a JSON object"), "a non-object frame not refused as such", input); break;
      case 2:
        check(is_syntax(error) || (is_non_finite(error) && error == (client ? nullptr : &client.error())),
              "decoder accepts text nlohmann refuses", input);
        break;
      default: check(too_large, "a number beyond a double not refused as too large", input);
    }
  }
  if (!client) return;
  const auto* publish = std::get_if<progress::Publish>(&client.value());
  if (publish == nullptr) return;
  const std::pair<const char*, const std::optional<progress::Json>*> user[] = {
      {"data", &publish->data}, {"result", &publish->result}, {"error", &publish->error}};
  for (const auto& [key, value] : user) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) continue;
    check(value->has_value() && **value == *it && (*value)->dump() == it->dump(),
          "user JSON differs from nlohmann's", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  same_json_as_nlohmann(input);
  round_trip<progress::ClientFrame>(
      input, [](std::string_view text) { return progress::decode_client_frame(text); });
  round_trip<progress::ServerFrame>(
      input, [](std::string_view text) { return progress::decode_server_frame(text); });

  // The publish body is matched against a URL id; the first line of the input plays that id so
  // both the equal and the mismatching case are reached.
  std::string_view path_id = input.substr(0, std::min(input.find('\n'), input.size()));
  std::string_view body = input.substr(std::min(path_id.size() + 1, input.size()));
  progress::Result<progress::Publish> publish = progress::decode_publish_body(body, path_id);
  if (!publish) {
    check_error(publish.error(), input);
    return 0;
  }
  check(publish.value().process_id == path_id, "publish body accepted for another id", input);
  check(!progress::validate(publish.value()).has_value(), "decoded publish fails validate()", input);
  // The body re-encoded as a publish frame must decode to the same publish on the WebSocket path.
  std::string text = progress::encode(progress::ClientFrame{publish.value()});
  progress::Result<progress::ClientFrame> again = progress::decode_client_frame(text);
  check(again.ok(), "publish body re-encoded as a frame does not decode", text);
  check(again.value() == progress::ClientFrame{publish.value()}, "publish body frame differs", text);
  return 0;
}
