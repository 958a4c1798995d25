#include "http/multipart.hpp"

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

// The Content-Disposition name (and filename) of one part's header block; nullopt without a name.
std::optional<form_part_header> parse_part_header(std::string_view head) {
  form_part_header part;
  bool named = false;
  for (std::size_t line_start = 0; line_start < head.size();) {
    auto line_end = head.find("\r\n", line_start);
    if (line_end == std::string_view::npos) line_end = head.size();
    const auto line = head.substr(line_start, line_end - line_start);
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
  if (!named) return std::nullopt;
  return part;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  if (lower(trim(content_type.substr(0, semi))) != "multipart/form-data") return std::nullopt;
  if (semi == std::string_view::npos) return std::string();
  return header_param(content_type.substr(semi + 1), "boundary").value_or(std::string());
}

multipart_reader::multipart_reader(std::string_view boundary, handlers on)
    : delimiter_("--" + std::string(boundary)), data_delimiter_("\r\n" + delimiter_), on_(std::move(on)) {
  if (boundary.empty() || boundary.size() > kMaxBoundaryLength) {
    (void)fail("multipart boundary missing or longer than 70 characters");
  }
}

std::optional<std::string> multipart_reader::fail(std::string message) {
  state_ = state::failed;
  error_ = std::move(message);
  pending_.clear();
  return error_;
}

std::optional<std::string> multipart_reader::feed(std::string_view bytes) {
  if (state_ == state::failed) return error_;
  if (state_ == state::done) return std::nullopt;  // the epilogue is ignored
  pending_.append(bytes);
  for (bool progressed = true; progressed;) {
    progressed = false;
    if (auto error = step(progressed)) return error;
  }
  return std::nullopt;
}

// One move of the state machine over pending_; `progressed` says whether another may follow.
std::optional<std::string> multipart_reader::step(bool& progressed) {
  switch (state_) {
    case state::preamble: {
      const auto at = pending_.find(delimiter_);
      if (at == std::string::npos) {
        // Keep only what could be the start of a delimiter split across reads.
        if (pending_.size() >= delimiter_.size()) pending_.erase(0, pending_.size() - (delimiter_.size() - 1));
        return std::nullopt;
      }
      pending_.erase(0, at + delimiter_.size());
      state_ = state::after_delimiter;
      progressed = true;
      return std::nullopt;
    }
    case state::after_delimiter: {
      if (pending_.size() < 2) return std::nullopt;
      if (pending_.compare(0, 2, "--") == 0) {
        state_ = state::done;
        pending_.clear();
        return std::nullopt;
      }
      if (pending_.compare(0, 2, "\r\n") != 0) return fail("malformed multipart boundary line");
      pending_.erase(0, 2);
      state_ = state::headers;
      progressed = true;
      return std::nullopt;
    }
    case state::headers: {
      const auto end = pending_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (pending_.size() > kMaxPartHeaderBytes) {
          return fail("a multipart part header is over " + std::to_string(kMaxPartHeaderBytes) + " bytes");
        }
        return std::nullopt;
      }
      const auto part = parse_part_header(std::string_view(pending_).substr(0, end));
      if (!part) return fail("multipart part without a Content-Disposition name");
      if (auto refused = on_.part(*part)) return fail(std::move(*refused));
      pending_.erase(0, end + 4);
      state_ = state::data;
      progressed = true;
      return std::nullopt;
    }
    case state::data: {
      const auto at = pending_.find(data_delimiter_);
      const std::size_t keep = data_delimiter_.size() - 1;
      if (at == std::string::npos) {
        if (pending_.size() <= keep) return std::nullopt;
        const std::size_t emit = pending_.size() - keep;
        if (auto refused = on_.data(std::string_view(pending_).substr(0, emit))) return fail(std::move(*refused));
        pending_.erase(0, emit);
        return std::nullopt;
      }
      if (at > 0) {
        if (auto refused = on_.data(std::string_view(pending_).substr(0, at))) return fail(std::move(*refused));
      }
      if (auto refused = on_.part_end()) return fail(std::move(*refused));
      pending_.erase(0, at + data_delimiter_.size());
      state_ = state::after_delimiter;
      progressed = true;
      return std::nullopt;
    }
    case state::done:
    case state::failed:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> multipart_reader::finish() const {
  switch (state_) {
    case state::done:
      return std::nullopt;
    case state::failed:
      return error_;
    case state::preamble:
      return std::string("multipart body has no boundary line");
    default:
      return std::string("multipart body ends before its closing boundary");
  }
}

}  // namespace progress::server
