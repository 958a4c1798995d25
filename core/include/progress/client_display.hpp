#pragma once
// What a progress UI shows, decided once for every client: the React component, the demo page
// and progress-watch all render a view's `display` (never sent on the wire). Each English text
// sits beside a code or number, so an app can show its own words instead.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>


namespace progress {

struct ProcessView;
enum class SessionState;

// One entry per span of the view's `stages`, in the same order.
struct DisplayStage {
  std::string label;          // "Text extraction" for "text_extraction"
  std::string duration_text;  // "1 min 5 s" once ended, else empty
};

struct Display {
  // waiting | pending | running | completed | failed | cancelled | error (cannot follow the job)
  std::string status;
  std::string status_text;  // "Waiting for the server…"; empty while running
  std::string title;        // the stage's label, else status_text
  bool terminal = false;    // the one rule for "this watch is over"
  double percent = 0;       // clamped to 0..100, rounded to 0.1
  std::string percent_text;             // "42%", "42.5%"
  std::optional<std::int64_t> eta_ms;   // absent once terminal or until it can be estimated
  std::string eta_text;                 // "about 1 min 5 s left", or empty
  std::string error_code;               // the watch's failure code, else the job's error code
  std::string error_text;               // "scan unreadable (ocr)", or empty
  std::vector<DisplayStage> stages;
};

// "text_extraction" -> "Text extraction".
std::string stage_label(std::string_view stage);
// Seconds rounded up, so the text never says less time than the estimate: "12 s",
// "1 min 5 s", "2 h 3 min".
std::string format_duration(std::int64_t ms);
Display make_display(const ProcessView& view);

// What a connection indicator says for a session state: "Live", "Reconnecting…".
std::string_view connection_label(SessionState state) noexcept;

}  // namespace progress
