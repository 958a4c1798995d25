#pragma once
// Files under --web-root: `/` and folders map to index.html; paths that would leave the root
// (`..`, encoded or not) are refused.
#include <filesystem>
#include <optional>
#include <string_view>

namespace progress::server {

std::string_view mime_type(std::string_view path) noexcept;

// The file a request path names under `root`, or nullopt when the path is malformed or escapes
// the root. Existence is not checked here.
std::optional<std::filesystem::path> resolve_static_path(const std::filesystem::path& root,
                                                         std::string_view request_path);

}  // namespace progress::server
