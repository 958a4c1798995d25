#pragma once
// One watched process on the client: its view and the rules that keep it consistent whatever
// order, repetition or gaps the frames arrive in (h11 `_state.py` style: every rule lives here).
//
//   1. A `progress` with seq <= the last seen seq of the same epoch is a duplicate: dropped.
//   2. Gaps in seq are legal (the server conflates intermediate progress for slow consumers).
//   3. A `snapshot` replaces the view, except one of the same epoch and a seq not above the
//      view's: it holds nothing new (the server's answer to a repeated subscribe), and applying
//      an older one would move percent backwards.
//   4. A `progress` of another epoch means the record was recreated (server restart, expiry):
//      it is ignored, and the watch asks for a fresh snapshot and ignores progress until it
//      arrives, so the new record's seq 1 is never mistaken for an old duplicate.
//   5. A terminal state ends the watch (`done`); an error frame naming the process ends it as
//      `failed`. A finished watch ignores every later frame.
//   6. Stage spans follow the server's record rules: a new stage ends the open span and opens
//      one at the event's ts; a terminal event ends the open span.
#include <optional>
#include <string>

#include "progress/client_session.hpp"
#include "progress/eta.hpp"
#include "progress/protocol.hpp"

namespace progress::client {

enum class Applied { ignored, changed, resync };

class Watch {
 public:
  explicit Watch(std::string process_id);

  const ProcessView& view() const noexcept { return view_; }
  bool finished() const noexcept {
    return view_.status == WatchStatus::done || view_.status == WatchStatus::failed;
  }
  // Failed before ever reaching a server (the id itself is invalid): nothing can revive it.
  bool rejected_locally() const noexcept { return rejected_locally_; }

  // The subscribe frame for a (new) connection: resumes from the last seen seq and epoch once
  // there is one, else asks for a snapshot.
  Subscribe subscribe_frame() const;

  Applied apply(const Snapshot& snapshot);
  Applied apply(const ProgressEvent& event);
  // True when the view changed.
  bool apply_pending();
  void fail(Error error, bool locally);
  // Back to a blank `waiting` view; the next subscribe asks for a snapshot.
  void restart();

  // Kept by the session for watch()/release(): how many hold this watch, and when the last
  // release runs out.
  int holders = 0;
  std::optional<MonoMillis> release_at;
  // Kept by the session for tokens: when the outstanding NeedToken runs out, and whether the
  // last refusal was an expiry already answered with a fresh token.
  std::optional<MonoMillis> token_deadline;
  bool refreshed = false;

 private:
  void update_eta(Millis at);
  void changed();

  ProcessView view_;
  EtaEstimator eta_;
  bool resyncing_ = false;
  bool rejected_locally_ = false;
};

}  // namespace progress::client
