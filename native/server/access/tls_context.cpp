#include "access/tls_context.hpp"

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

// TLS 1.2 suites: ECDHE key exchange only (a recorded session stays sealed when the key leaks later)
// and AEAD ciphers only (no CBC padding oracles). TLS 1.3's suites are all of that kind already.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

std::unique_ptr<ssl::context> make_tls_context(const std::filesystem::path& cert, const std::filesystem::path& key,
                                               std::string& error) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ERR_clear_error();
  if (SSL_CTX_set_cipher_list(ctx->native_handle(), kTls12Ciphers) != 1) {
    error = "this OpenSSL offers none of the TLS 1.2 ECDHE AEAD suites: " + openssl_reason(error_code{});
    return nullptr;
  }
  // The server's order, not the client's: a client listing CBC first still gets GCM.
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
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
