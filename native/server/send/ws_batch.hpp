#pragma once
// One write of a WebSocket session's queued frames: the hub's text payloads (their headers made
// here) and whole frames (101 answer, pong, close) in one send. A small batch is copied into one
// buffer; a large one is gathered from the shared payloads in place.
// Shared by a session writing on the hub thread and by a send lane (send_lane.hpp) writing for it.
#include <cstddef>
#include <optional>
#include <span>

#include "progress/hub.hpp"

namespace progress::server {

// A frame to send: a hub text payload (header made at write time) or a complete frame.
struct ws_outgoing {
  SharedText bytes;
  bool whole = false;
};

// Frames from the hub per gathered write; with their headers that is 128 iovecs (IOV_MAX is 1024).
inline constexpr std::size_t kBatchFrames = 64;
// Room for control frames (pong, close) queued while a batch waits for the socket.
inline constexpr std::size_t kSpareEntries = 4;
// Entries one write takes; any beyond wait for the next write.
inline constexpr std::size_t kMaxBatchEntries = kBatchFrames + kSpareEntries;
// A batch of at most this many bytes on the wire is copied into one buffer and sent from there. The
// kernel's single-buffer send path is cheaper than walking an iovec array: in fanout-max (about two
// small frames a call) the iovec import and copy were 4% of the hub's time, 1% after the change.
// Past this size the copy the kernel makes anyway dominates, and copying twice would not pay.
inline constexpr std::size_t kCopiedBatchBytes = 16 * 1024;

// Bytes the entry occupies on the wire, header included.
std::size_t wire_size(const ws_outgoing& entry);

struct send_outcome {
  std::size_t sent = 0;  // bytes the socket took
  int error = 0;         // errno of a failed write; EAGAIN and EINTR count as 0 (nothing sent)
};

// The outcome of a write that failed with `error`: EAGAIN and EINTR are nothing sent, not a failure.
send_outcome failed_send(int error);

// Writes `batch` (its first `offset` bytes already sent) to the non-blocking socket `fd`.
send_outcome send_batch(int fd, std::span<const ws_outgoing> batch, std::size_t offset);

// The bytes one write of `batch` puts on the wire when they are few enough to be copied into one
// buffer (at most kCopiedBatchBytes), nullopt when the write is gathered in place instead.
std::optional<std::size_t> copied_size(std::span<const ws_outgoing> batch);
// Copies those bytes into `out`, which has room for copied_size(batch).
void copy_batch(std::span<const ws_outgoing> batch, char* out);

// How a batch fared: entries fully written are released and counted in `done`; `offset` becomes the
// bytes of batch[done] already on the wire.
std::size_t settle_batch(std::span<ws_outgoing> batch, std::size_t sent, std::size_t& offset);

}  // namespace progress::server
