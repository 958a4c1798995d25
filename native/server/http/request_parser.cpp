#include "http/request_parser.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

namespace progress::server {
namespace {

// What a field costs against the header budget: name, value, ": " and CRLF.
constexpr std::size_t kFieldOverhead = 4;
// " HTTP/1.1\r\n" and the space after the method.
constexpr std::size_t kRequestLineOverhead = 11;

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9112 6.1: a request's transfer codings must end in chunked, or its length cannot be known.
// Beast reads any other list as "no body", which would let the bytes after the header pass for a
// second request behind a proxy that reads them as this one's body.
bool ends_in_chunked(beast::string_view value) {
  std::string_view last;
  for (const auto& coding : http::token_list{value}) last = std::string_view(coding.data(), coding.size());
  return same_ignoring_case(last, "chunked");
}

}  // namespace

bounded_request_parser::bounded_request_parser(std::size_t max_header_bytes, std::size_t max_body_bytes)
    : max_header_bytes_(std::min(max_header_bytes, kMaxHeaderBytesLimit)), max_body_bytes_(max_body_bytes) {
  header_limit(static_cast<std::uint32_t>(max_header_bytes_));
  body_limit(max_body_bytes_);
}

void bounded_request_parser::limit_body(std::size_t max_body_bytes) {
  max_body_bytes_ = max_body_bytes;
  body_limit(max_body_bytes_);
}

bool bounded_request_parser::count_header_bytes(std::size_t n, error_code& ec) {
  header_bytes_ += n;
  if (header_bytes_ <= max_header_bytes_) return true;
  failure_ = read_failure::header_too_large;
  ec = http::error::header_limit;
  return false;
}

void bounded_request_parser::on_request_impl(http::verb method, beast::string_view method_str,
                                             beast::string_view target, int version, error_code& ec) {
  start_line_seen_ = true;
  if (!count_header_bytes(method_str.size() + target.size() + kRequestLineOverhead, ec)) return;
  message_.target(target);
  if (method != http::verb::unknown) {
    message_.method(method);
  } else {
    message_.method_string(method_str);
  }
  message_.version(version);
}

void bounded_request_parser::on_response_impl(int, beast::string_view, int, error_code& ec) {
  ec = http::error::bad_method;  // a request parser: never called
}

void bounded_request_parser::on_field_impl(http::field name, beast::string_view name_string,
                                           beast::string_view value, error_code& ec) {
  if (!count_header_bytes(name_string.size() + value.size() + kFieldOverhead, ec)) return;
  // Trailer fields are counted and dropped: nothing here reads them, and merging them into the
  // header would let a body's tail rewrite what access was decided on.
  if (header_done_) return;
  try {
    message_.insert(name, name_string, value);
  } catch (const std::exception&) {  // length_error: unreachable under kMaxHeaderBytesLimit
    failure_ = read_failure::header_too_large;
    ec = http::error::header_limit;
  }
}

void bounded_request_parser::on_header_impl(error_code& ec) {
  header_done_ = true;
  const auto coding = message_[http::field::transfer_encoding];
  if (!coding.empty() && !ends_in_chunked(coding)) {
    failure_ = read_failure::transfer_encoding;
    ec = http::error::bad_transfer_encoding;
  }
}

void bounded_request_parser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                               error_code& ec) {
  if (content_length && *content_length > max_body_bytes_) {
    failure_ = read_failure::body_too_large;
    ec = http::error::body_limit;
  }
}

std::size_t bounded_request_parser::take_body(std::string_view bytes, error_code& ec) {
  if (bytes.size() > max_body_bytes_ - body_bytes_) {
    failure_ = read_failure::body_too_large;
    ec = http::error::body_limit;
    return 0;
  }
  body_bytes_ += bytes.size();
  if (!sink_) {
    message_.body().append(bytes);
    return bytes.size();
  }
  if (auto error = sink_->write(bytes)) {
    failure_ = read_failure::sink;
    sink_error_ = std::move(*error);
    ec = http::error::body_limit;
    return 0;
  }
  return bytes.size();
}

std::size_t bounded_request_parser::on_body_impl(beast::string_view body, error_code& ec) {
  return take_body(std::string_view(body.data(), body.size()), ec);
}

void bounded_request_parser::on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) {}

std::size_t bounded_request_parser::on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code& ec) {
  return take_body(std::string_view(body.data(), body.size()), ec);
}

void bounded_request_parser::on_finish_impl(error_code& ec) {
  if (!sink_) return;
  if (auto error = sink_->finish()) {
    failure_ = read_failure::sink;
    sink_error_ = std::move(*error);
    ec = http::error::body_limit;
  }
}

beast::flat_buffer make_read_buffer(std::size_t max_header_bytes, std::size_t read_chunk) {
  return beast::flat_buffer(std::min(max_header_bytes, kMaxHeaderBytesLimit) + read_chunk);
}

string_response read_failure_response(const bounded_request_parser& parser, error_code ec) {
  const request& req = parser.get();
  const std::string header_limit = std::to_string(parser.max_header_bytes());
  auto failure = parser.failure();
  if (failure == read_failure::none) {
    if (ec == http::error::header_limit) {
      // Beast stops at its own limit before the request line ends when the line alone is too long.
      failure = parser.start_line_seen() ? read_failure::header_too_large : read_failure::request_line_too_long;
    } else if (ec == http::error::buffer_overflow) {
      failure = read_failure::header_too_large;  // a chunk-size line or trailer that never ends
    } else if (ec == http::error::body_limit) {
      failure = read_failure::body_too_large;
    }
  }
  switch (failure) {
    case read_failure::request_line_too_long:
      return error_response(req, http::status::uri_too_long, ErrorCode::too_large,
                            "the request line is over the header limit of " + header_limit + " bytes");
    case read_failure::header_too_large:
      return error_response(req, http::status::request_header_fields_too_large, ErrorCode::too_large,
                            "the request header and trailer are over the limit of " + header_limit + " bytes");
    case read_failure::body_too_large:
      return error_response(req, http::status::payload_too_large, ErrorCode::too_large,
                            "the request body is over the limit of " + std::to_string(parser.max_body_bytes()) +
                                " bytes");
    case read_failure::transfer_encoding:
      return error_response(req, http::status::not_implemented, ErrorCode::bad_frame,
                            "Transfer-Encoding " + std::string(req[http::field::transfer_encoding]) +
                                " is not supported: a request's codings must end in chunked");
    case read_failure::sink:
      return error_response(req, parser.sink_failure().status, parser.sink_failure().code,
                            parser.sink_failure().message);
    case read_failure::none:
      break;
  }
  return error_response(req, http::status::bad_request, ErrorCode::bad_frame,
                        "malformed HTTP request: " + ec.message());
}

}  // namespace progress::server
