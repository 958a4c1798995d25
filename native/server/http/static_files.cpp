#include "http/static_files.hpp"

#include <algorithm>
#include <array>
#include <system_error>
#include <string>
#include <utility>

namespace progress::server {
namespace {

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex(in[i + 1]);
    const int lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

std::string_view mime_type(std::string_view path) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 17> types{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".wasm", "application/wasm"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/vnd.microsoft.icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
      {".md", "text/markdown; charset=utf-8"},
  }};
  const auto dot = path.rfind('.');
  const auto slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string ext(path.substr(dot));
  for (auto& c : ext) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  for (const auto& [suffix, type] : types) {
    if (ext == suffix) return type;
  }
  return "application/octet-stream";
}

std::optional<std::filesystem::path> resolve_static_path(const std::filesystem::path& root,
                                                         std::string_view request_path) {
  if (root.empty() || request_path.empty() || request_path.front() != '/') return std::nullopt;
  const auto decoded = percent_decode(request_path);
  if (!decoded) return std::nullopt;
  std::filesystem::path out = root;
  std::size_t start = 1;
  while (start <= decoded->size()) {
    auto end = decoded->find('/', start);
    if (end == std::string::npos) end = decoded->size();
    const std::string_view segment(decoded->data() + start, end - start);
    // Checked after decoding so `%2e%2e` and `%2f` cannot sneak a parent step or a separator in.
    // Dotfiles and dot-folders (.git, .env, editor swap files) are never part of what a web root
    // publishes; "." alone is the folder itself.
    if ((segment.size() > 1 && segment.front() == '.') || segment.find('\\') != std::string_view::npos ||
        segment.find('\0') != std::string_view::npos) {
      return std::nullopt;
    }
    if (!segment.empty() && segment != ".") out /= std::string(segment);
    start = end + 1;
  }
  if (decoded->back() == '/') out /= "index.html";
  // A symlink inside the root may point anywhere: what it resolves to must still be inside.
  std::error_code ec;
  const auto real = std::filesystem::canonical(out, ec);
  if (ec) return out;  // missing: answered 404 when it is opened
  const auto real_root = std::filesystem::canonical(root, ec);
  if (ec) return std::nullopt;
  if (std::mismatch(real_root.begin(), real_root.end(), real.begin(), real.end()).first != real_root.end()) {
    return std::nullopt;
  }
  return out;
}

}  // namespace progress::server
