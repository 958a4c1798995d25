#pragma once
// multipart/form-data (RFC 7578) read as a stream: just enough for browser uploads (a `file` field
// and small text fields such as `process_id`). Part headers are parsed; part data is handed on
// piece by piece as it arrives, so a form of any size needs no more memory than one read plus the
// longest part header (kMaxPartHeaderBytes).
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace progress::server {

inline constexpr std::size_t kMaxPartHeaderBytes = 8 * 1024;
inline constexpr std::size_t kMaxBoundaryLength = 70;  // RFC 2046 5.1.1

// The boundary parameter of a multipart/form-data Content-Type ("" when the parameter is missing),
// or nullopt for any other type.
std::optional<std::string> multipart_boundary(std::string_view content_type);

struct form_part_header {
  std::string name;
  std::optional<std::string> filename;
};

class multipart_reader {
 public:
  // Each returns an error message to stop the form, or nullopt to go on.
  struct handlers {
    std::function<std::optional<std::string>(const form_part_header&)> part;
    std::function<std::optional<std::string>(std::string_view)> data;
    std::function<std::optional<std::string>()> part_end;
  };

  // An error() at once when the boundary is empty or longer than RFC 2046 allows.
  multipart_reader(std::string_view boundary, handlers on);

  // The next bytes of the body; an error message when the form is malformed or a handler refused.
  std::optional<std::string> feed(std::string_view bytes);
  // The body ended: an error message unless the closing delimiter was seen.
  std::optional<std::string> finish() const;
  const std::string& error() const { return error_; }

 private:
  enum class state { preamble, after_delimiter, headers, data, done, failed };
  std::optional<std::string> fail(std::string message);
  std::optional<std::string> step(bool& progressed);

  std::string delimiter_;       // "--" boundary
  std::string data_delimiter_;  // CRLF "--" boundary: ends a part's data
  handlers on_;
  std::string pending_;  // bytes not yet consumed: bounded by one read plus a delimiter or a header
  state state_ = state::preamble;
  std::string error_;
};

}  // namespace progress::server
