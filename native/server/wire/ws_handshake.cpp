#include "wire/ws_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <boost/beast/core/detail/base64.hpp>

namespace progress::server {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::string_view kVersion = "13";

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// OpenSSL 3's one-shot SHA1() looks the algorithm up and allocates a digest context on every call:
// about two thirds of its cost, and SHA1() was 13% of the hub's instructions in a churn cycle (connect,
// 101, snapshot, reset). Each thread fetches the algorithm once and reuses one context.
class sha1_digest {
 public:
  sha1_digest() : md_(EVP_MD_fetch(nullptr, "SHA1", nullptr)), ctx_(EVP_MD_CTX_new()) {}
  ~sha1_digest() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  sha1_digest(const sha1_digest&) = delete;
  sha1_digest& operator=(const sha1_digest&) = delete;

  // False only if OpenSSL cannot provide SHA-1 this way; the caller falls back to the one-shot call.
  bool compute(std::string_view a, std::string_view b, std::array<unsigned char, SHA_DIGEST_LENGTH>& out) {
    unsigned int size = 0;
    return md_ != nullptr && ctx_ != nullptr && EVP_DigestInit_ex(ctx_, md_, nullptr) == 1 &&
           EVP_DigestUpdate(ctx_, a.data(), a.size()) == 1 &&
           EVP_DigestUpdate(ctx_, b.data(), b.size()) == 1 &&
           EVP_DigestFinal_ex(ctx_, out.data(), &size) == 1 && size == out.size();
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

// A 16-byte value in base64 is exactly 22 characters and "==", the last character carrying only
// two significant bits.
bool is_valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  return std::string_view("AQgw").find(key[21]) != std::string_view::npos;
}

string_response refuse(const request& req, std::string message) {
  auto res = error_response(req, ErrorCode::bad_frame, std::move(message));
  res.keep_alive(false);
  return res;
}

}  // namespace

handshake_fields::handshake_fields(const request& req) {
  auto take = [](std::string_view& slot, std::string_view value) {
    if (slot.data() == nullptr) slot = value.data() == nullptr ? std::string_view("") : value;
  };
  for (const auto& field : req) {
    switch (field.name()) {
      case http::field::upgrade:
        take(upgrade, field.value());
        break;
      case http::field::connection:
        take(connection, field.value());
        break;
      case http::field::sec_websocket_version:
        take(version, field.value());
        break;
      case http::field::sec_websocket_key:
        take(key, field.value());
        break;
      default:
        break;
    }
  }
}

bool handshake_fields::wants_websocket() const { return http::token_list{upgrade}.exists("websocket"); }

bool handshake_fields::is_upgrade(const request& req) const {
  return req.version() >= 11 && req.method() == http::verb::get && http::token_list{connection}.exists("upgrade") &&
         wants_websocket();
}

std::optional<string_response> check_handshake(const request& req, const handshake_fields& fields) {
  if (req.method() != http::verb::get) {
    return refuse(req, "a WebSocket upgrade must use GET, not " + std::string(req.method_string()));
  }
  if (req.version() < 11) return refuse(req, "a WebSocket upgrade needs HTTP/1.1");
  if (!http::token_list{fields.connection}.exists("upgrade")) {
    return refuse(req, "a WebSocket upgrade needs the header 'Connection: Upgrade'");
  }
  if (fields.version != kVersion) {
    auto res = refuse(req, "unsupported Sec-WebSocket-Version; this server speaks 13");
    res.result(http::status::upgrade_required);
    res.set(http::field::sec_websocket_version, kVersion);
    return res;
  }
  if (!is_valid_key(fields.key)) {
    return refuse(req, "Sec-WebSocket-Key must be 16 bytes in base64");
  }
  return std::nullopt;
}

std::string websocket_accept(std::string_view key) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  thread_local sha1_digest sha1;
  if (!sha1.compute(key, kGuid, digest)) {
    std::string input(key);
    input.append(kGuid);
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  }
  namespace base64 = boost::beast::detail::base64;
  std::string out(base64::encoded_size(digest.size()), '\0');
  out.resize(base64::encode(out.data(), digest.data(), digest.size()));
  return out;
}

std::string switching_protocols(const handshake_fields& fields, std::string_view server_name) {
  std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  head += "Sec-WebSocket-Accept: ";
  head += websocket_accept(fields.key);
  head += "\r\nServer: ";
  head += server_name;
  head += "\r\n\r\n";
  return head;
}

}  // namespace progress::server
