#pragma once
// multipart/form-data (RFC 7578) over a body held in memory: just enough for browser uploads
// (a `file` field and small text fields such as `process_id`).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace progress::server {

struct form_part {
  std::string name;
  std::optional<std::string> filename;
  std::string_view data;  // points into the body
};

struct form_parse {
  std::vector<form_part> parts;
  std::string error;  // non-empty: the body is not valid multipart
};

// The boundary parameter of a multipart/form-data Content-Type, or nullopt for any other type.
std::optional<std::string> multipart_boundary(std::string_view content_type);

form_parse parse_multipart(std::string_view body, std::string_view boundary);

}  // namespace progress::server
