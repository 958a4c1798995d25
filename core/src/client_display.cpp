#include "progress/client_display.hpp"

#include <cmath>

#include "progress/client_session.hpp"
#include "progress/json_writer.hpp"

namespace progress {
namespace {

std::string_view status_text(std::string_view status) {
  if (status == "waiting") return "Waiting for the server…";
  if (status == "pending") return "Waiting for the job to start…";
  if (status == "completed") return "Completed";
  if (status == "failed") return "Failed";
  if (status == "cancelled") return "Cancelled";
  if (status == "error") return "Cannot follow this job";
  return "";
}

std::string status_of(const ProcessView& view) {
  if (view.failure) return "error";
  if (view.status == WatchStatus::waiting) return "waiting";
  if (view.status == WatchStatus::pending) return "pending";
  return std::string(to_string(view.state));
}

// A job's error as published: a string, or an object with message (and code), or anything else.
void describe_error(const Json& error, Display& out) {
  if (error.is_null()) return;
  if (error.is_string()) {
    out.error_text = error.get<std::string>();
    return;
  }
  const auto message = error.is_object() ? error.find("message") : error.end();
  const auto code = error.is_object() ? error.find("code") : error.end();
  if (code != error.end() && code->is_string()) out.error_code = code->get<std::string>();
  if (message != error.end() && message->is_string()) {
    out.error_text = message->get<std::string>();
    if (!out.error_code.empty()) out.error_text += " (" + out.error_code + ")";
  } else {
    json_writer::append_json(out.error_text, error);  // dump()'s text, without its serializer
  }
}

// Whole tenths as integers: printf's floating-point formatting would add kilobytes to the
// browser's module for one digit.
std::string percent_text(double percent) {
  const long long tenths = std::llround(percent * 10);
  std::string text = std::to_string(tenths / 10);
  if (tenths % 10 != 0) text += "." + std::to_string(tenths % 10);
  return text + "%";
}

}  // namespace

std::string stage_label(std::string_view stage) {
  std::string out;
  for (char c : stage) {
    const char shown = c == '_' || c == '-' ? ' ' : c;
    if (shown == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += shown;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string format_duration(std::int64_t ms) {
  const std::int64_t s = ms <= 0 ? 0 : (ms + 999) / 1000;
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

Display make_display(const ProcessView& view) {
  Display out;
  out.status = status_of(view);
  out.status_text = std::string(status_text(out.status));
  out.terminal = view.status == WatchStatus::done || view.status == WatchStatus::failed;
  const std::string label = stage_label(view.stage);
  out.title = label.empty() ? out.status_text : label;
  const double clamped = std::isfinite(view.percent) ? std::fmin(100.0, std::fmax(0.0, view.percent)) : 0.0;
  out.percent = std::round(clamped * 10) / 10;
  out.percent_text = percent_text(out.percent);
  if (!out.terminal && view.eta_ms) {
    out.eta_ms = view.eta_ms;
    out.eta_text = "about " + format_duration(*view.eta_ms) + " left";
  }
  if (view.failure) {
    out.error_code = std::string(to_string(view.failure->code));
    out.error_text = view.failure->message + " (" + out.error_code + ")";
  } else if (view.error && view.state != State::completed) {
    describe_error(*view.error, out);
  }
  out.stages.reserve(view.stages.size());
  for (const auto& span : view.stages) {
    std::string took = span.ended_at ? format_duration(*span.ended_at - span.started_at) : std::string();
    out.stages.push_back({stage_label(span.name), std::move(took)});
  }
  return out;
}

std::string_view connection_label(SessionState state) noexcept {
  switch (state) {
    case SessionState::connecting:
    case SessionState::open: return "Connecting…";
    case SessionState::live: return "Live";
    case SessionState::reconnecting: return "Reconnecting…";
    case SessionState::suspended: return "Offline, retrying";
    case SessionState::done: return "Finished";
    case SessionState::stopped: return "Stopped";
    case SessionState::idle:
    case SessionState::failed: break;
  }
  return "Not connected";
}

}  // namespace progress
