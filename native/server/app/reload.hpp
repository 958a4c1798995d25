#pragma once
// SIGHUP: the API key, the token secrets and the TLS certificate read again from their files. All
// are read before any is replaced, so a reload that fails (a file gone, a bad certificate) keeps
// every running value. Applied on the event loop's thread, the only one that reads them: no socket
// is dropped and no lock is taken; connections made afterwards get the new certificate.
#include <memory>
#include <optional>
#include <string>

#include "access/tls_context.hpp"
#include "config/config.hpp"

namespace progress::server {

struct reloadable {
  std::string api_key;
  std::string token_secret;
  std::string token_secret_previous;
  std::unique_ptr<ssl::context> tls;  // null when the hub speaks plain TCP
};

// What the files named in `config` hold now; nullopt with `error` (the file and why, never a secret)
// when one of them cannot be used. Values given in the environment stay as they are.
std::optional<reloadable> read_reloadable(const server_config& config, std::string& error);

// The names of what changed between `config` and `fresh` ("api_key,token_secret", "tls"...), for the log.
std::string changed_names(const server_config& config, const reloadable& fresh);

}  // namespace progress::server
