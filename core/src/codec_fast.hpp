#pragma once
// The publish hot path's decoder (issue #5): a single pass over the frames producers and
// subscribers send. A shortcut of the nlohmann decoder in codec.cpp, never an alternative: it
// answers only for input it fully understands and that decodes without error; everything else
// goes the full way, so errors and their messages stay its own.
// Private to the core (tests reach it through core/src); codec.hpp is the public face.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "progress/protocol.hpp"

namespace progress::codec_fast {

// A frame nested deeper than this is refused before parsing (see codec.cpp).
inline constexpr int kMaxNestingDepth = 64;

// Length of the valid UTF-8 sequence at `s[i]` (a byte >= 0x80), or 0 when it is not one: the
// decoder's and the encoders' one test of what nlohmann would accept.
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept;

// The frame decode_client_frame would return, or nullopt when the full decoder must decide
// (an error, an unknown field, a duplicate key, a surrogate escape, a long number, ...).
std::optional<ClientFrame> decode_client_frame(std::string_view text);

// The full nlohmann decoder, without the fast path in front: what the fast path is checked against.
Result<ClientFrame> decode_client_frame_full(std::string_view text);

// validate() for a publish whose `data` is known to serialize within limits::kMaxDataBytes, so it
// is not serialized again to be measured.
std::optional<Error> validate_fitting_data(const Publish& publish);

}  // namespace progress::codec_fast
