#include "http/upload_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace progress::server {

std::unique_ptr<upload_sink> upload_sink::create(std::filesystem::path file, std::optional<std::string> boundary,
                                                 std::string& error) {
  // 0600 whatever the umask: an upload is a user's document.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot create " + file.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<upload_sink>(new upload_sink(std::move(file), fd, std::move(boundary)));
}

upload_sink::upload_sink(std::filesystem::path file, int fd, std::optional<std::string> boundary)
    : file_(std::move(file)), fd_(fd) {
  if (!boundary) return;
  multipart_reader::handlers on;
  on.part = [this](const form_part_header& header) -> std::optional<std::string> {
    if (header.name == "file" && !file_seen_) {
      file_seen_ = true;
      current_ = part::file;
    } else if (header.name == "process_id" && !form_process_id_) {
      form_process_id_.emplace();
      current_ = part::process_id;
    } else {
      current_ = part::other;  // read past, never kept
    }
    return std::nullopt;
  };
  on.data = [this](std::string_view bytes) -> std::optional<std::string> {
    if (current_ == part::file) {
      if (auto error = store(bytes)) {
        store_error_ = std::move(error);
        return store_error_->message;
      }
    } else if (current_ == part::process_id) {
      if (form_process_id_->size() + bytes.size() > kMaxFormFieldBytes) {
        return "the form field process_id is over " + std::to_string(kMaxFormFieldBytes) + " bytes";
      }
      form_process_id_->append(bytes);
    }
    return std::nullopt;
  };
  on.part_end = [this]() -> std::optional<std::string> {
    current_ = part::none;
    return std::nullopt;
  };
  form_.emplace(*boundary, std::move(on));
}

upload_sink::~upload_sink() {
  close_fd();
  if (!kept_) {
    std::error_code ignored;
    std::filesystem::remove(file_, ignored);
  }
}

void upload_sink::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<sink_error> upload_sink::store(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return sink_error{http::status::service_unavailable, ErrorCode::unavailable,
                        std::string("the server could not store the upload: ") + std::strerror(errno)};
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    file_bytes_ += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

std::optional<sink_error> upload_sink::write(std::string_view bytes) {
  if (!form_) return store(bytes);
  if (auto error = form_->feed(bytes)) {
    if (store_error_) return store_error_;
    return sink_error{http::status::bad_request, ErrorCode::bad_frame, std::move(*error)};
  }
  return std::nullopt;
}

std::optional<sink_error> upload_sink::finish() {
  if (form_) {
    if (auto error = form_->finish()) return sink_error{http::status::bad_request, ErrorCode::bad_frame, *error};
    if (!file_seen_) {
      return sink_error{http::status::bad_request, ErrorCode::bad_frame, "the multipart upload has no `file` field"};
    }
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    return sink_error{http::status::service_unavailable, ErrorCode::unavailable,
                      std::string("the server could not store the upload: ") + std::strerror(errno)};
  }
  fd_ = -1;
  return std::nullopt;
}

}  // namespace progress::server
