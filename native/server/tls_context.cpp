#include "tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace progress::server {
namespace {

// OpenSSL's own words for the last failure, which name the actual problem (no start line, key values
// mismatch, ...) better than anything said here.
std::string openssl_reason(const error_code& ec) {
  if (ec) return ec.message();
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

}  // namespace

std::unique_ptr<ssl::context> make_tls_context(const std::filesystem::path& cert, const std::filesystem::path& key,
                                               std::string& error) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ERR_clear_error();
  error_code ec;
  ctx->use_certificate_chain_file(cert.string(), ec);
  if (ec) {
    error = "cannot load --tls-cert " + cert.string() + ": " + openssl_reason(ec);
    return nullptr;
  }
  ctx->use_private_key_file(key.string(), ssl::context::pem, ec);
  if (ec) {
    error = "cannot load --tls-key " + key.string() + ": " + openssl_reason(ec);
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    error = "--tls-key " + key.string() + " does not match --tls-cert " + cert.string() + ": " +
            openssl_reason(error_code{});
    return nullptr;
  }
  return ctx;
}

}  // namespace progress::server
