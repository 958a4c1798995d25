#pragma once
// Structured logs: one line per event, `ts level event key=value ...`, to stderr (stdout carries
// only the `listening on` line that scripts and tests read).
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace progress::server {

enum class log_level { debug, info, warn, error, off };

std::optional<log_level> log_level_from_string(std::string_view text) noexcept;

using log_field = std::pair<std::string_view, std::string>;

class logger {
 public:
  explicit logger(log_level min_level) : min_level_(min_level) {}

  bool enabled(log_level level) const noexcept { return level >= min_level_ && level != log_level::off; }
  void write(log_level level, std::string_view event, std::initializer_list<log_field> fields) const;

  void debug(std::string_view event, std::initializer_list<log_field> fields = {}) const {
    write(log_level::debug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<log_field> fields = {}) const {
    write(log_level::info, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<log_field> fields = {}) const {
    write(log_level::warn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<log_field> fields = {}) const {
    write(log_level::error, event, fields);
  }

 private:
  log_level min_level_;
};

}  // namespace progress::server
