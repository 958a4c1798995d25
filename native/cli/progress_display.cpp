#include "progress_display.hpp"

#include <cmath>
#include <cstdint>

#include "progress/client_json.hpp"
#include "progress/codec.hpp"

namespace progress::cli {
namespace {

constexpr int kBarWidth = 30;
constexpr std::size_t kMaxMessageShown = 60;

}  // namespace

std::string render_bar(double percent, int width) {
  const double clamped = std::isfinite(percent) ? std::fmin(100.0, std::fmax(0.0, percent)) : 0.0;
  const int filled = static_cast<int>(std::lround(clamped / 100.0 * width));
  // Built by appends: g++ 12 -O3 reports a false -Wrestrict on `"[" + std::string(...)`.
  std::string bar;
  bar.reserve(static_cast<std::size_t>(width) + 2);
  bar += '[';
  bar.append(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(width - filled), '-');
  bar += ']';
  return bar;
}

// Every text is the core's display block (client_display.hpp), as the browser shows it.
std::string describe(const ProcessView& view) {
  const Display& d = view.display;
  if (view.failure) return "error: " + d.error_text;
  if (view.status == WatchStatus::waiting || view.status == WatchStatus::pending) return d.status_text;
  std::string line = d.status;
  if (!d.title.empty() && d.title != d.status_text) line += "  " + d.title;
  line += "  " + d.percent_text;
  if (!d.eta_text.empty()) line += "  " + d.eta_text;
  if (const std::string& message = view.message; !message.empty()) {
    line += "  " + (message.size() > kMaxMessageShown ? message.substr(0, kMaxMessageShown) + "..." : message);
  }
  if (!d.error_text.empty()) line += "  error: " + d.error_text;
  return line;
}

std::string view_json(const ProcessView& view) {
  std::string text;
  write_view(text, view);
  return text;
}

progress_display::progress_display(display_mode mode, std::FILE* out, std::FILE* err)
    : mode_(mode), out_(out), err_(err) {}

void progress_display::on_event(const ClientEvent& event) {
  if (const auto* changed = std::get_if<ProgressChanged>(&event)) {
    show(changed->view);
  } else if (const auto* state = std::get_if<StateChanged>(&event)) {
    if (mode_ != display_mode::json &&
        (state->state == SessionState::reconnecting || state->state == SessionState::suspended)) {
      finish();
      std::fprintf(err_, "connection lost: %s\n", std::string(to_string(state->state)).c_str());
    }
  } else if (const auto* error = std::get_if<ErrorEvent>(&event)) {
    finish();
    // The refusal reason is what a script acts on (a fresh token helps only when it is `expired`).
    const std::string reason = error->error.reason ? " (" + std::string(to_string(*error->error.reason)) + ")" : "";
    std::fprintf(err_, "server error %s%s: %s\n", std::string(to_string(error->error.code)).c_str(), reason.c_str(),
                 error->error.message.c_str());
  }
}

void progress_display::show(const ProcessView& view) {
  if (mode_ == display_mode::json) {
    std::fprintf(out_, "%s\n", view_json(view).c_str());
    std::fflush(out_);
    return;
  }
  std::string line = describe(view);
  if (mode_ == display_mode::lines) {
    if (line == last_line_) return;
    last_line_ = line;
    std::fprintf(out_, "%s %s\n", view.process_id.c_str(), line.c_str());
    std::fflush(out_);
    return;
  }
  line = render_bar(view.display.percent, kBarWidth) + " " + line;
  // Pad over the remains of a longer previous line.
  const std::size_t width = line.size();
  if (width < last_line_.size()) line += std::string(last_line_.size() - width, ' ');
  last_line_ = line.substr(0, width);
  std::fprintf(out_, "\r%s", line.c_str());
  std::fflush(out_);
  bar_open_ = true;
}

void progress_display::finish() {
  if (bar_open_) {
    std::fputc('\n', out_);
    std::fflush(out_);
    bar_open_ = false;
  }
}

}  // namespace progress::cli
