#pragma once
// The parser every HTTP connection reads requests with: Beast's basic_parser under our own limits.
// Beast's http::parser merges trailer fields into the message without a limit and throws
// std::length_error on a field value over 64 KiB; this one counts header and trailer bytes against
// one budget, drops trailers, never throws, and sends the body either to memory (API bodies, up to
// their limit) or to a body_sink that writes it to disk as it arrives (uploads).
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/net.hpp"
#include "http/responses.hpp"

namespace progress::server {

// Bytes one read may add to a connection's buffer. The buffer's max_size is the header limit plus
// this, so no input, however it is split or whatever it claims, grows a connection past that.
inline constexpr std::size_t kReadChunkBytes = 64 * 1024;

// Beast stores a field's name and value lengths in 16 bits and throws on a longer one; the header
// limit stays under that so no header can reach it.
inline constexpr std::size_t kMaxHeaderBytesLimit = 60 * 1024;

// Why a streamed body could not be taken: malformed (400) or not storable here (503).
struct sink_error {
  http::status status = http::status::bad_request;
  ErrorCode code = ErrorCode::bad_frame;
  std::string message;
};

// Where a streamed body goes, piece by piece as it arrives.
class body_sink {
 public:
  virtual ~body_sink() = default;
  virtual std::optional<sink_error> write(std::string_view bytes) = 0;
  virtual std::optional<sink_error> finish() = 0;
};

// Why a read stopped, in the terms of the answer it gets.
enum class read_failure {
  none,
  request_line_too_long,  // 414
  header_too_large,       // 431 (header and trailer together)
  body_too_large,         // 413
  transfer_encoding,      // 501: a Transfer-Encoding that does not end in chunked
  sink,                   // the streamed body was malformed or could not be stored (sink_failure())
};

class bounded_request_parser : public http::basic_parser<true> {
 public:
  bounded_request_parser(std::size_t max_header_bytes, std::size_t max_body_bytes);

  request& get() { return message_; }
  const request& get() const { return message_; }
  request release() { return std::move(message_); }

  // Both before the body is read (after the header): the route's own limit, and where the body goes.
  void limit_body(std::size_t max_body_bytes);
  // `sink` (not owned) outlives the read.
  void stream_body_to(body_sink* sink) { sink_ = sink; }

  read_failure failure() const { return failure_; }
  const sink_error& sink_failure() const { return sink_error_; }
  std::size_t body_bytes() const { return body_bytes_; }
  std::size_t max_header_bytes() const { return max_header_bytes_; }
  std::size_t max_body_bytes() const { return max_body_bytes_; }
  bool start_line_seen() const { return start_line_seen_; }

 private:
  void on_request_impl(http::verb method, beast::string_view method_str, beast::string_view target, int version,
                       error_code& ec) override;
  void on_response_impl(int, beast::string_view, int, error_code& ec) override;
  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code& ec) override;
  std::size_t on_body_impl(beast::string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, beast::string_view extensions, error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, beast::string_view body, error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  std::size_t take_body(std::string_view bytes, error_code& ec);
  bool count_header_bytes(std::size_t n, error_code& ec);

  request message_;
  body_sink* sink_ = nullptr;
  std::size_t max_header_bytes_;
  std::size_t max_body_bytes_;
  std::size_t header_bytes_ = 0;  // start line, fields and trailer fields, as counted by their parts
  std::size_t body_bytes_ = 0;
  bool start_line_seen_ = false;
  bool header_done_ = false;
  read_failure failure_ = read_failure::none;
  sink_error sink_error_;
};

// The buffer a connection reads into, bounded as above (`read_chunk` smaller only in the fuzz target,
// so its short inputs reach the bound).
beast::flat_buffer make_read_buffer(std::size_t max_header_bytes, std::size_t read_chunk = kReadChunkBytes);

// The answer for a failed read: 414, 431, 413, 501 or 400, each with the protocol's JSON error
// naming the limit. `ec` is the read's error when the parser recorded no failure of its own.
string_response read_failure_response(const bounded_request_parser& parser, error_code ec);

}  // namespace progress::server
