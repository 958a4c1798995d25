#pragma once
// Request-target helpers beyond `parse_target` (declared in hub.hpp): percent-decoding and the
// SSE `Last-Event-ID` resume header.
#include <optional>
#include <string>
#include <string_view>

#include "progress/hub.hpp"

namespace progress {

// %XX decoding ('+' is a space, as in form-encoded queries); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

// Applies an SSE `Last-Event-ID: <epoch>:<seq>` (the `id:` the server wrote) to `target`.
// Returns false (and leaves `target` unchanged) when the header is not of that form.
bool apply_last_event_id(Target& target, std::string_view last_event_id);

}  // namespace progress
