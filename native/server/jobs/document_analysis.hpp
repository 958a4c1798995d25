#pragma once
// The built-in document job: works through an uploaded file in stages (checksum, text
// extraction, analysis) and reports progress that follows the bytes actually processed. It reads
// the file in fixed chunks and never holds more than one chunk of it.
// Blocking and self-contained, so it runs on the upload worker thread.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "progress/protocol.hpp"

namespace progress::server {

struct job_update {
  std::string stage;
  double percent = 0;
  std::string message;
  Json data = Json::object();
};

struct job_outcome {
  bool completed = false;
  Json value;  // `result` when completed, else the `error` object {code, message}
};

// Distinct words the analysis counts; words first seen after that are counted in `words` but not
// tallied, and the result says `truncated: true`. Bounds the job's memory whatever the upload.
inline constexpr std::size_t kMaxDistinctWords = 100'000;

// Stage names as the frontend shows them.
inline constexpr const char* kStageReceived = "upload_received";
inline constexpr const char* kStageChecksum = "checksum";
inline constexpr const char* kStageTextExtraction = "text_extraction";
inline constexpr const char* kStageAnalysis = "analysis";

// `report` is called at each stage start and whenever the whole percent grows (at most ~100
// calls per job). Returns nullopt-like `completed=false, value=null` when `stop` was raised.
job_outcome analyse_document(const std::filesystem::path& file, const std::function<void(job_update)>& report,
                             const std::atomic<bool>& stop);

}  // namespace progress::server
