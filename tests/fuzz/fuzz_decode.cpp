// Arbitrary bytes into the three decoders. Decoding must never throw; a decoded frame must
// survive encode -> decode unchanged (the server and the wasm client both rely on re-encoding
// what they decoded); an error must carry a code that has a wire name and a message to show.
// The client decoder's fast path (codec_fast.hpp) may only answer what the full decoder accepts,
// with the same frame.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "check.hpp"
#include "codec_fast.hpp"
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

void same_as_full_decoder(std::string_view input) {
  std::optional<progress::ClientFrame> fast = progress::codec_fast::decode_client_frame(input);
  if (!fast) return;
  progress::Result<progress::ClientFrame> full = progress::codec_fast::decode_client_frame_full(input);
  check(full.ok(), "fast path accepted a frame the full decoder refuses", input);
  check(*fast == full.value(), "fast path decoded to another frame", input);
  check(progress::encode(*fast) == progress::encode(full.value()), "fast path frame encodes differently",
        input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  same_as_full_decoder(input);
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
