#pragma once
// JSON text <-> protocol structs. Decoding never throws: malformed JSON or a wrong field type is
// `bad_frame`, an unknown `type` is `unknown_type`, a bad id is `invalid_process_id`, a publish
// whose values break the record rules' static checks (percent, sizes) is `invalid_update`.
// One pass (json_scan.cpp) reads the frame without a Json tree; nlohmann holds only user JSON.
#include <string>
#include <string_view>

#include "progress/protocol.hpp"

namespace progress {

Result<ClientFrame> decode_client_frame(std::string_view text);
Result<ServerFrame> decode_server_frame(std::string_view text);

// An HTTP progress body: a publish frame without `type`. `path_id` is the id in the URL; a body
// `process_id` must equal it.
Result<Publish> decode_publish_body(std::string_view text, std::string_view path_id);

// One JSON value of any kind, read by the same one-pass reader as the frames (UTF-8, nesting
// depth, numbers typed as nlohmann types them): structured input that is not a frame, such as the
// browser session's options. Malformed text is `bad_frame`.
Result<Json> decode_json(std::string_view text);

// Static checks of a publish (id, state, percent in [0,100] and finite, string lengths, data an
// object under the size limit, lease range). Record rules (percent monotonic, terminal final)
// are checked by ProcessRecord.
std::optional<Error> validate(const Publish& publish);

// One hand encoder for both directions (codec_encode.cpp): keys in byte order, as nlohmann's
// dump() wrote them when it was the encoder. Invalid UTF-8 in a string is replaced by U+FFFD.
std::string encode(const ServerFrame& frame);
std::string encode(const ClientFrame& frame);
// encode(ServerFrame{event}) without copying the event into a frame: the fan-out's encoder.
std::string encode_event(const ProgressEvent& event);
// The record served by GET /api/processes/{id}: a snapshot frame without `type`.
std::string encode_record(const Snapshot& snapshot);
// User JSON (`data`, `result`, `error`) as the frames carry it.
std::string encode_json(const Json& value);
// {"error":{"code":"...","message":"..."}} for HTTP responses.
std::string encode_http_error(const Error& error);

// The encoded text parsed back, for callers that hold frames as JSON (tests, HTTP bodies).
Json to_json(const ServerFrame& frame);
Json to_json(const ClientFrame& frame);
Json to_json(const Snapshot& snapshot);  // the record, as encode_record writes it

}  // namespace progress
