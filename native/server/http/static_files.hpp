#pragma once
// Files under --web-root: `/` and folders map to index.html; paths that would leave the root
// (`..`, encoded or not, or a symlink to outside) and dotfiles are refused.
#include <filesystem>
#include <optional>
#include <string_view>

namespace progress::server {

std::string_view mime_type(std::string_view path) noexcept;

// The file a request path names under `root`, or nullopt when the path is malformed or escapes
// the root (a path that exists is resolved through its symlinks), or names a dotfile. A missing
// file is not refused here: opening it answers 404.
std::optional<std::filesystem::path> resolve_static_path(const std::filesystem::path& root,
                                                         std::string_view request_path);

}  // namespace progress::server
