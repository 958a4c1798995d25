#pragma once
// HS256 subscription tokens the integration suites share, minted once with python3's
// hmac/hashlib/base64 and the secret "integration-secret" (exp 4102444800 unless named).
#include <string>

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
