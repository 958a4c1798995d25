#pragma once
// HS256 subscription tokens the integration suites share, minted once with python3's
// hmac/hashlib/base64 and the secret "integration-secret" (exp 4102444800 unless named).
#include <cstdint>
#include <string>
#include <string_view>

namespace progress::test {

// Unpadded base64url (RFC 4648 section 5), as JWT segments are written.
inline std::string base64url(std::string_view bytes) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (const char c : bytes) {
    bits = (bits << 8) | static_cast<unsigned char>(c);
    held += 8;
    while (held >= 6) {
      held -= 6;
      out.push_back(kAlphabet[(bits >> held) & 0x3F]);
    }
  }
  if (held > 0) out.push_back(kAlphabet[(bits << (6 - held)) & 0x3F]);
  return out;
}

}  // namespace progress::test

namespace progress::test::fixed_tokens {

// sub secure-1
inline const std::string kGood =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzZWN1cmUtMSIsImV4cCI6NDEwMjQ0NDgwMH0."
    "PlSHSCi1L2nxq-7b_9_O4da6hN1cOKhb8P_ifX_6GoE";
// sub secure-1, exp 1000000000
inline const std::string kExpired =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzZWN1cmUtMSIsImV4cCI6MTAwMDAwMDAwMH0."
    "JKLT_4m-Gtc-95llTdyqqjvpelCxtTs_k_qvyeunJsY";
// sub secure-2
inline const std::string kOther =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzZWN1cmUtMiIsImV4cCI6NDEwMjQ0NDgwMH0."
    "4ZaismPJK09fCcfmhCL7Yx49VaQmXQD1DwC3JFw4n3k";

}  // namespace progress::test::fixed_tokens
