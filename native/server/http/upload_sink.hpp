#pragma once
// An upload's body written to its file as it arrives, in the pieces the connection reads: the raw
// body, or the first `file` field of a multipart form (whose `process_id` field is kept). Nothing
// of the file is held in memory. The file is created 0600 and removed again unless the upload is
// accepted (keep()).
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "http/multipart.hpp"
#include "http/request_parser.hpp"

namespace progress::server {

// A form's `process_id` field longer than this cannot be a valid id; reading stops there.
inline constexpr std::size_t kMaxFormFieldBytes = 1024;

class upload_sink final : public body_sink {
 public:
  // `boundary`: the multipart boundary, or nullopt for a raw body. nullptr and `error` set when the
  // file cannot be created.
  static std::unique_ptr<upload_sink> create(std::filesystem::path file, std::optional<std::string> boundary,
                                             std::string& error);
  ~upload_sink() override;
  upload_sink(const upload_sink&) = delete;
  upload_sink& operator=(const upload_sink&) = delete;

  std::optional<sink_error> write(std::string_view bytes) override;
  std::optional<sink_error> finish() override;

  const std::filesystem::path& file() const { return file_; }
  std::size_t file_bytes() const { return file_bytes_; }
  const std::optional<std::string>& form_process_id() const { return form_process_id_; }
  // The job owns the file now: it is no longer removed with the sink.
  void keep() { kept_ = true; }

 private:
  upload_sink(std::filesystem::path file, int fd, std::optional<std::string> boundary);
  std::optional<sink_error> store(std::string_view bytes);
  void close_fd();

  std::filesystem::path file_;
  int fd_;
  std::optional<multipart_reader> form_;
  enum class part { none, file, process_id, other };
  part current_ = part::none;
  bool file_seen_ = false;
  std::optional<std::string> form_process_id_;
  std::optional<sink_error> store_error_;  // a write that failed inside the form reader's callbacks
  std::size_t file_bytes_ = 0;
  bool kept_ = false;
};

}  // namespace progress::server
