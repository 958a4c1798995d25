#include "base/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace progress::server {
namespace {

std::string_view level_name(log_level level) noexcept {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::off: return "off";
  }
  return "info";
}

// RFC 3339 UTC with milliseconds, so lines sort and parse without a locale.
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// Values with spaces, quotes or `=` are quoted so a line always splits back into its fields.
void append_value(std::string& line, std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \"=\t\r\n") == std::string_view::npos;
  if (plain) {
    line += value;
    return;
  }
  line += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      line += '\\';
      line += c;
    } else if (c == '\n') {
      line += "\\n";
    } else if (c == '\r' || c == '\t') {
      line += ' ';
    } else {
      line += c;
    }
  }
  line += '"';
}

}  // namespace

std::optional<log_level> log_level_from_string(std::string_view text) noexcept {
  for (auto level : {log_level::debug, log_level::info, log_level::warn, log_level::error, log_level::off}) {
    if (text == level_name(level)) return level;
  }
  return std::nullopt;
}

void logger::write(log_level level, std::string_view event, std::initializer_list<log_field> fields) const {
  if (!enabled(level)) return;
  std::string line = timestamp();
  line += ' ';
  line += level_name(level);
  line += ' ';
  line += event;
  for (const auto& [key, value] : fields) {
    line += ' ';
    line += key;
    line += '=';
    append_value(line, value);
  }
  line += '\n';
  // One fwrite per line keeps lines whole even when the upload worker logs concurrently.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace progress::server
