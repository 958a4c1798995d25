#include "app/reload.hpp"

namespace progress::server {

std::optional<reloadable> read_reloadable(const server_config& config, std::string& error) {
  reloadable fresh{config.api_key, config.token_secret, config.token_secret_previous, nullptr};
  if (!config.api_key_file.empty() && !read_secret_file(config.api_key_file.string(), fresh.api_key)) {
    error = "cannot read --api-key-file " + config.api_key_file.string() + " (missing, unreadable or empty)";
    return std::nullopt;
  }
  if (!config.token_secret_file.empty() && !read_secret_file(config.token_secret_file.string(), fresh.token_secret)) {
    error = "cannot read --token-secret-file " + config.token_secret_file.string() + " (missing, unreadable or empty)";
    return std::nullopt;
  }
  if (!config.token_secret_previous_file.empty() &&
      !read_optional_secret_file(config.token_secret_previous_file.string(), fresh.token_secret_previous)) {
    error = "cannot read --token-secret-previous-file " + config.token_secret_previous_file.string();
    return std::nullopt;
  }
  if (!config.tls_cert.empty()) {
    fresh.tls = make_tls_context(config.tls_cert, config.tls_key, error);
    if (!fresh.tls) return std::nullopt;
  }
  return fresh;
}

std::string changed_names(const server_config& config, const reloadable& fresh) {
  std::string names;
  const auto note = [&names](bool changed, const char* name) {
    if (!changed) return;
    if (!names.empty()) names += ',';
    names += name;
  };
  note(fresh.api_key != config.api_key, "api_key");
  note(fresh.token_secret != config.token_secret, "token_secret");
  note(fresh.token_secret_previous != config.token_secret_previous, "token_secret_previous");
  // A certificate is loaded afresh every time: its files may hold the same bytes.
  note(fresh.tls != nullptr, "tls");
  return names.empty() ? "none" : names;
}

}  // namespace progress::server
