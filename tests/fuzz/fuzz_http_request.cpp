// The HTTP request path as a connection runs it: Beast's read algorithm over the server's bounded
// parser and bounded buffer, with the server's default limits, fed arbitrary bytes in pieces of
// arbitrary size through Beast's test stream; up to four pipelined requests per input, routed as
// the session routes them (an upload's body through the streaming multipart reader).
// Invariants: nothing throws, the buffer never holds more than its max_size, a streamed body never
// passes its limit, and every failed read maps to a refusal the client can read (JSON error body,
// status 400, 413, 414, 431 or 501).
#include <boost/beast/_experimental/test/stream.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "check.hpp"
#include "http/multipart.hpp"
#include "http/request_parser.hpp"
#include "http/url_query.hpp"

namespace ps = progress::server;
namespace fz = progress::fuzz;

namespace {

// The server's code with its limits scaled down (the header limit is the flag's minimum) so that
// inputs of a few KiB reach every bound.
constexpr std::size_t kMaxHeaderBytes = 512;
constexpr std::size_t kReadChunk = 512;
constexpr std::size_t kMaxBodyBytes = 1024;
constexpr std::size_t kMaxUploadBytes = 2048;
constexpr int kMaxRequests = 4;

// What upload_sink does with a body, without the disk: a raw body is counted, a form goes through
// the same multipart_reader.
class form_sink final : public ps::body_sink {
 public:
  explicit form_sink(std::optional<std::string> boundary) {
    if (!boundary) return;
    ps::multipart_reader::handlers on;
    on.part = [](const ps::form_part_header&) -> std::optional<std::string> { return std::nullopt; };
    on.data = [this](std::string_view bytes) -> std::optional<std::string> {
      file_bytes_ += bytes.size();
      return std::nullopt;
    };
    on.part_end = []() -> std::optional<std::string> { return std::nullopt; };
    form_.emplace(*boundary, std::move(on));
  }
  std::optional<ps::sink_error> write(std::string_view bytes) override {
    received_ += bytes.size();
    if (!form_) return std::nullopt;
    if (auto error = form_->feed(bytes)) return ps::sink_error{ps::http::status::bad_request, {}, *error};
    return std::nullopt;
  }
  std::optional<ps::sink_error> finish() override {
    if (!form_) return std::nullopt;
    if (auto error = form_->finish()) return ps::sink_error{ps::http::status::bad_request, {}, *error};
    return std::nullopt;
  }
  std::size_t received() const { return received_; }

 private:
  std::optional<ps::multipart_reader> form_;
  std::size_t received_ = 0;
  std::size_t file_bytes_ = 0;
};

void check_buffer(const ps::beast::flat_buffer& buffer) {
  fz::check(buffer.size() <= buffer.max_size(), "the read buffer passed its max_size");
}

void check_refusal(const ps::bounded_request_parser& parser, ps::error_code ec) {
  const auto res = ps::read_failure_response(parser, ec);
  const unsigned status = res.result_int();
  fz::check(status == 400 || status == 413 || status == 414 || status == 431 || status == 501,
            "a failed read maps to an unexpected status", std::to_string(status));
  fz::check(res.body().rfind("{\"error\":{", 0) == 0, "a refusal without a JSON error body", res.body());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte sets how many bytes each read returns (1 to 256), as TCP segments would.
  const std::size_t piece = std::size_t{data[0]} + 1;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  ps::net::io_context ioc;
  ps::beast::test::stream stream(ioc, input);
  stream.read_size(piece);
  stream.close_remote();  // once the input is read, the client has gone: reads end with eof
  auto buffer = ps::make_read_buffer(kMaxHeaderBytes, kReadChunk);
  for (int n = 0; n < kMaxRequests; ++n) {
    ps::bounded_request_parser parser(kMaxHeaderBytes, std::max(kMaxBodyBytes, kMaxUploadBytes));
    ps::error_code ec;
    ps::http::read_header(stream, buffer, parser, ec);
    check_buffer(buffer);
    if (ec) {
      if (ec != ps::http::error::end_of_stream) check_refusal(parser, ec);
      return 0;
    }
    const auto path = ps::split_target(parser.get().target()).path;
    const bool upload = path == "/api/uploads";
    const std::size_t limit = upload ? kMaxUploadBytes : kMaxBodyBytes;
    std::optional<form_sink> sink;
    if (upload) {
      sink.emplace(ps::multipart_boundary(parser.get()[ps::http::field::content_type]));
      parser.stream_body_to(&*sink);
    }
    parser.limit_body(limit);
    if (!parser.is_done()) ps::http::read(stream, buffer, parser, ec);
    check_buffer(buffer);
    fz::check(parser.body_bytes() <= limit, "a body passed its limit");
    if (sink) fz::check(sink->received() == parser.body_bytes(), "the sink missed body bytes");
    if (ec) {
      if (ec != ps::http::error::end_of_stream && ec != ps::http::error::partial_message) check_refusal(parser, ec);
      return 0;
    }
    if (!parser.get().keep_alive()) return 0;
  }
  return 0;
}
