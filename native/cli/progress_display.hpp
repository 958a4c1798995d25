#pragma once
// What progress-watch prints: a `\r`-redrawn bar on a terminal, one plain line per change
// otherwise, or one JSON object per view change with --json.
#include <cstdio>
#include <string>

#include "progress/client_session.hpp"

namespace progress::cli {

enum class display_mode { bar, lines, json };

// The one-line text of a view (without bar), e.g.
// "running  Analysis  72%  about 3 s left  counting words".
std::string describe(const ProcessView& view);
// A fixed-width bar for `percent`, e.g. "[########------------]".
std::string render_bar(double percent, int width);
// The --json line of a view (no newline).
std::string view_json(const ProcessView& view);

class progress_display {
 public:
  progress_display(display_mode mode, std::FILE* out, std::FILE* err);

  void on_event(const ClientEvent& event);
  // Ends a `\r` line so the shell prompt starts on a fresh one.
  void finish();

 private:
  void show(const ProcessView& view);

  display_mode mode_;
  std::FILE* out_;
  std::FILE* err_;
  std::string last_line_;
  bool bar_open_ = false;
};

}  // namespace progress::cli
