#pragma once
// One function per suite of tests/vectors/README.md; each runs one case with GoogleTest
// assertions. `vcase` is the case object; the runner has already checked `id`/`description`.
#include <nlohmann/json.hpp>

namespace progress::vectors {

void run_codec_case(const nlohmann::json& vcase);
void run_hub_case(const nlohmann::json& vcase);
void run_client_case(const nlohmann::json& vcase);

}  // namespace progress::vectors
