#pragma once
// TLS (--tls-cert/--tls-key): the stream every session uses on a TLS listener, and the server's
// certificate loaded once at start.
#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "base/net.hpp"

namespace progress::server {

namespace ssl = net::ssl;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// A TLS 1.2+ server context with `cert` (PEM chain) and its `key`; null with `error` set (OpenSSL's
// reason included) when either cannot be read or they do not belong together.
std::unique_ptr<ssl::context> make_tls_context(const std::filesystem::path& cert, const std::filesystem::path& key,
                                               std::string& error);

}  // namespace progress::server
