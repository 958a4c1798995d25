#include "multipart.hpp"

#include <cctype>

namespace progress::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// `key=value` or `key="value"` from a `;`-separated header value.
std::optional<std::string> header_param(std::string_view value, std::string_view key) {
  std::size_t pos = 0;
  while (pos < value.size()) {
    auto semi = value.find(';', pos);
    // Quoted values may contain ';'.
    const auto quote = value.find('"', pos);
    if (quote != std::string_view::npos && quote < semi) {
      const auto close = value.find('"', quote + 1);
      if (close == std::string_view::npos) return std::nullopt;
      semi = value.find(';', close);
    }
    if (semi == std::string_view::npos) semi = value.size();
    const auto item = trim(value.substr(pos, semi - pos));
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && lower(trim(item.substr(0, eq))) == key) {
      auto v = trim(item.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
    pos = semi + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  if (lower(trim(content_type.substr(0, semi))) != "multipart/form-data") return std::nullopt;
  if (semi == std::string_view::npos) return std::string();
  return header_param(content_type.substr(semi + 1), "boundary").value_or(std::string());
}

form_parse parse_multipart(std::string_view body, std::string_view boundary) {
  form_parse out;
  if (boundary.empty() || boundary.size() > 70) {
    out.error = "multipart boundary missing or longer than 70 characters";
    return out;
  }
  const std::string delimiter = "--" + std::string(boundary);
  auto pos = body.find(delimiter);
  if (pos == std::string_view::npos) {
    out.error = "multipart body has no boundary line";
    return out;
  }
  pos += delimiter.size();
  const std::string next_delimiter = "\r\n" + delimiter;
  while (true) {
    if (body.substr(pos, 2) == "--") return out;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") {
      out.error = "malformed multipart boundary line";
      return out;
    }
    pos += 2;
    const auto head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) {
      out.error = "multipart part without a header end";
      return out;
    }
    form_part part;
    bool named = false;
    for (auto line_start = pos; line_start < head_end;) {
      auto line_end = body.find("\r\n", line_start);
      if (line_end == std::string_view::npos || line_end > head_end) line_end = head_end;
      const auto line = body.substr(line_start, line_end - line_start);
      const auto colon = line.find(':');
      if (colon != std::string_view::npos && lower(trim(line.substr(0, colon))) == "content-disposition") {
        const auto value = line.substr(colon + 1);
        if (auto name = header_param(value, "name")) {
          part.name = *name;
          named = true;
        }
        part.filename = header_param(value, "filename");
      }
      line_start = line_end + 2;
    }
    if (!named) {
      out.error = "multipart part without a Content-Disposition name";
      return out;
    }
    const auto data_start = head_end + 4;
    const auto data_end = body.find(next_delimiter, data_start);
    if (data_end == std::string_view::npos) {
      out.error = "multipart body ends before its closing boundary";
      return out;
    }
    part.data = body.substr(data_start, data_end - data_start);
    out.parts.push_back(std::move(part));
    pos = data_end + next_delimiter.size();
  }
}

}  // namespace progress::server
