#pragma once
// Incremental SHA-256 through OpenSSL's EVP interface: the document job hashes uploads chunk by chunk.
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace progress::server {

class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  void update(std::string_view bytes);
  // Hex digest; the object is spent afterwards.
  std::string finish_hex();

 private:
  struct free_context {
    void operator()(evp_md_ctx_st* context) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, free_context> context_;
};

}  // namespace progress::server
