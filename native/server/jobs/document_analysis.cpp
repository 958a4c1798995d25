#include "jobs/document_analysis.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <cctype>
#include <cmath>
#include <fstream>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <openssl/evp.h>

namespace progress::server {
namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::size_t kMinRunChars = 4;        // shorter printable runs in binary data are noise
constexpr double kMinTextFraction = 0.5;  // less text than this: binary (or compressed), not a document
constexpr std::size_t kTopWords = 10;
constexpr std::size_t kMaxWordBytes = 64;      // longer "words" are data, not language

// Percent bands of the stages; the numbers only shape the bar, the work inside each is measured.
constexpr double kChecksumFrom = 5, kChecksumTo = 35;
constexpr double kExtractFrom = 35, kExtractTo = 70;
constexpr double kAnalysisFrom = 70, kAnalysisTo = 99;

// SHA-256 straight from OpenSSL's EVP interface, fed chunk by chunk as the file is read.
struct free_digest {
  void operator()(EVP_MD_CTX* context) const noexcept { EVP_MD_CTX_free(context); }
};
using digest_context = std::unique_ptr<EVP_MD_CTX, free_digest>;

digest_context start_sha256() {
  digest_context context(EVP_MD_CTX_new());
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) return nullptr;
  return context;
}

std::string finish_hex(EVP_MD_CTX* context) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(context, digest.data(), &size) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xF]);
  }
  return hex;
}

Json error_value(std::string code, std::string message) {
  return Json{{"code", std::move(code)}, {"message", std::move(message)}};
}

// Sends an update only when the whole percent grows, so a large file gives ~100 updates, not one
// per chunk.
class reporter {
 public:
  explicit reporter(const std::function<void(job_update)>& report) : report_(report) {}

  void stage(std::string name, double percent, std::string message, Json data = Json::object()) {
    stage_ = std::move(name);
    last_whole_ = std::floor(percent);
    report_(job_update{stage_, percent, std::move(message), std::move(data)});
  }
  void advance(double from, double to, std::uint64_t done, std::uint64_t total, const std::string& message) {
    const double fraction = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
    const double percent = from + (to - from) * fraction;
    if (std::floor(percent) <= last_whole_) return;
    last_whole_ = std::floor(percent);
    report_(job_update{stage_, percent, message,
                       Json{{"bytes_done", done}, {"bytes_total", total}}});
  }

 private:
  const std::function<void(job_update)>& report_;
  std::string stage_;
  double last_whole_ = -1;
};

// Printable text runs of a byte stream, UTF-8 aware: a valid multi-byte sequence is text, a stray
// or overlong one ends the run. Runs shorter than kMinRunChars are dropped (`strings` semantics).
// Streams: a run is held back only until it reaches kMinRunChars, then goes out as it grows, so the
// state stays a few bytes whatever the input.
class text_extractor {
 public:
  // Appends the text found in `bytes` to `out`.
  void feed(std::string_view bytes, std::string& out) {
    for (const char ch : bytes) byte(static_cast<unsigned char>(ch), out);
  }
  void finish(std::string& out) { flush_run(out); }

 private:
  void byte(unsigned char b, std::string& out) {
    if (expect_ > 0) {
      if ((b & 0xC0) == 0x80) {
        seq_ += static_cast<char>(b);
        code_point_ = (code_point_ << 6) | (b & 0x3F);
        if (--expect_ == 0) end_sequence(out);
        return;
      }
      // Truncated sequence: the run ends here and this byte starts afresh.
      expect_ = 0;
      seq_.clear();
      flush_run(out);
    }
    if (b == '\t' || b == '\n' || b == '\r' || (b >= 0x20 && b < 0x7F)) {
      append(std::string_view(reinterpret_cast<const char*>(&b), 1), out);
    } else if (b >= 0xC2 && b <= 0xF4) {
      expect_ = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1;
      code_point_ = b & (b >= 0xF0 ? 0x07u : b >= 0xE0 ? 0x0Fu : 0x1Fu);
      min_code_point_ = expect_ == 3 ? 0x10000u : expect_ == 2 ? 0x800u : 0x80u;
      seq_.assign(1, static_cast<char>(b));
    } else {
      flush_run(out);
    }
  }
  void end_sequence(std::string& out) {
    const bool valid = code_point_ >= min_code_point_ && code_point_ <= 0x10FFFF &&
                       !(code_point_ >= 0xD800 && code_point_ <= 0xDFFF);
    if (valid) {
      append(seq_, out);
    } else {
      flush_run(out);
    }
    seq_.clear();
  }
  // One character of the current run.
  void append(std::string_view character, std::string& out) {
    ++run_chars_;
    last_ = character.back();
    if (run_chars_ < kMinRunChars) {
      held_ += character;
      return;
    }
    if (!held_.empty()) {
      out += held_;
      held_.clear();
    }
    out += character;
  }
  void flush_run(std::string& out) {
    if (run_chars_ >= kMinRunChars && last_ != '\n') out += '\n';
    held_.clear();
    run_chars_ = 0;
  }

  std::string held_;  // the run's first characters, until it is long enough to be text
  std::size_t run_chars_ = 0;
  char last_ = '\0';
  std::string seq_;
  int expect_ = 0;
  std::uint32_t code_point_ = 0;
  std::uint32_t min_code_point_ = 0;
};

struct word_counter {
  std::uint64_t lines = 0;
  std::uint64_t words = 0;
  std::unordered_map<std::string, std::uint64_t> counts;  // at most kMaxDistinctWords entries
  bool truncated = false;  // a word was left out of `counts` because it was full
  std::string word;        // at most kMaxWordBytes + 1 bytes: past that it is only "too long"
  bool line_open = false;

  void feed(std::string_view text) {
    for (const char ch : text) {
      const auto b = static_cast<unsigned char>(ch);
      if (b == '\n') {
        end_word();
        if (line_open) ++lines;
        line_open = false;
        continue;
      }
      if (b != '\r' && b != ' ' && b != '\t') line_open = true;
      // Bytes of multi-byte UTF-8 characters count as letters so accented words stay whole.
      if (std::isalnum(b) != 0 || b >= 0x80) {
        if (word.size() <= kMaxWordBytes) word += static_cast<char>(b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
      } else {
        end_word();
      }
    }
  }
  void finish() {
    end_word();
    if (line_open) ++lines;
  }
  void end_word() {
    if (word.empty()) return;
    ++words;
    if (word.size() <= kMaxWordBytes) {
      if (const auto it = counts.find(word); it != counts.end()) {
        ++it->second;
      } else if (counts.size() < kMaxDistinctWords) {
        counts.emplace(word, 1);
      } else {
        truncated = true;
      }
    }
    word.clear();
  }
  Json top() const {
    std::vector<std::pair<std::string, std::uint64_t>> sorted(counts.begin(), counts.end());
    const auto n = std::min(kTopWords, sorted.size());
    std::partial_sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n), sorted.end(),
                      [](const auto& a, const auto& b) {
                        return a.second != b.second ? a.second > b.second : a.first < b.first;
                      });
    Json out = Json::array();
    for (std::size_t i = 0; i < n; ++i) out.push_back({{"word", sorted[i].first}, {"count", sorted[i].second}});
    return out;
  }
};

// Reads `file` in chunks, handing each to `consume` and reporting the bytes done; false on I/O error.
template <class Consume>
bool for_each_chunk(const std::filesystem::path& file, std::uint64_t total, const std::atomic<bool>& stop,
                    Consume consume) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::string chunk(kChunkBytes, '\0');
  std::uint64_t done = 0;
  while (done < total) {
    if (stop.load()) return true;
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) return false;
    done += got;
    consume(std::string_view(chunk.data(), got), done);
  }
  return true;
}

}  // namespace

job_outcome analyse_document(const std::filesystem::path& file, const std::function<void(job_update)>& report,
                             const std::atomic<bool>& stop) {
  std::error_code ec;
  const std::uint64_t total = std::filesystem::file_size(file, ec);
  if (ec) return {false, error_value("io_error", "cannot read the uploaded file: " + ec.message())};
  reporter progress(report);
  progress.stage(kStageReceived, 0, "received " + std::to_string(total) + " bytes", Json{{"bytes_total", total}});

  progress.stage(kStageChecksum, kChecksumFrom, "computing SHA-256");
  const digest_context hash = start_sha256();
  if (!hash) return {false, error_value("internal", "SHA-256 is not available from OpenSSL")};
  const std::string checksum_message = "hashing";
  bool hashed = true;
  if (!for_each_chunk(file, total, stop, [&](std::string_view bytes, std::uint64_t done) {
        hashed = hashed && EVP_DigestUpdate(hash.get(), bytes.data(), bytes.size()) == 1;
        progress.advance(kChecksumFrom, kChecksumTo, done, total, checksum_message);
      })) {
    return {false, error_value("io_error", "reading the uploaded file failed during the checksum")};
  }
  if (stop.load()) return {false, Json()};
  const std::string digest = hashed ? finish_hex(hash.get()) : std::string();
  if (digest.empty()) return {false, error_value("internal", "SHA-256 of the uploaded file failed in OpenSSL")};

  // Two passes over the file, each holding one chunk and its text: the first only measures the
  // text, so a binary file fails before any word is counted; the second counts the words.
  progress.stage(kStageTextExtraction, kExtractFrom, "extracting text");
  std::uint64_t text_bytes = 0;
  std::string text;
  text.reserve(2 * kChunkBytes);
  {
    text_extractor extractor;
    const std::string extract_message = "extracting text";
    if (!for_each_chunk(file, total, stop, [&](std::string_view bytes, std::uint64_t done) {
          extractor.feed(bytes, text);
          text_bytes += text.size();
          text.clear();
          progress.advance(kExtractFrom, kExtractTo, done, total, extract_message);
        })) {
      return {false, error_value("io_error", "reading the uploaded file failed during text extraction")};
    }
    if (stop.load()) return {false, Json()};
    extractor.finish(text);
    text_bytes += text.size();
    text.clear();
  }
  if (text_bytes == 0 || static_cast<double>(text_bytes) < kMinTextFraction * static_cast<double>(total)) {
    return {false, error_value("unreadable", "no readable text: " + std::to_string(text_bytes) + " of " +
                                                 std::to_string(total) + " bytes are text (binary file?)")};
  }

  progress.stage(kStageAnalysis, kAnalysisFrom, "counting lines and words");
  word_counter counter;
  {
    text_extractor extractor;
    const std::string analysis_message = "counting words";
    if (!for_each_chunk(file, total, stop, [&](std::string_view bytes, std::uint64_t done) {
          extractor.feed(bytes, text);
          counter.feed(text);
          text.clear();
          progress.advance(kAnalysisFrom, kAnalysisTo, done, total, analysis_message);
        })) {
      return {false, error_value("io_error", "reading the uploaded file failed during the analysis")};
    }
    if (stop.load()) return {false, Json()};
    extractor.finish(text);
    counter.feed(text);
  }
  counter.finish();
  if (counter.words == 0) {
    return {false, error_value("unreadable", "the file holds no words")};
  }
  Json result = {{"bytes", total},
                 {"sha256", digest},
                 {"text_bytes", text_bytes},
                 {"lines", counter.lines},
                 {"words", counter.words},
                 {"unique_words", counter.counts.size()},
                 {"truncated", counter.truncated},
                 {"top_words", counter.top()}};
  return {true, std::move(result)};
}

}  // namespace progress::server
