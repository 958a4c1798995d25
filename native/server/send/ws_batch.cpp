#include "send/ws_batch.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>

#include "wire/ws_frames.hpp"

namespace progress::server {

std::size_t wire_size(const ws_outgoing& entry) {
  const std::size_t n = entry.bytes->size();
  if (entry.whole) return n;
  return n + (n < 126 ? 2 : n <= 0xFFFF ? 4 : 10);
}

namespace {

using header_bytes = std::array<std::uint8_t, ws::kMaxServerHeader>;

// What goes on the wire before the entry's bytes: a text payload's header, made in `storage`; nothing
// for a whole frame.
std::span<const char> header_of(const ws_outgoing& entry, header_bytes& storage) {
  if (entry.whole) return {};
  const std::size_t size = ws::encode_header(storage, ws::opcode::text, entry.bytes->size());
  return {reinterpret_cast<const char*>(storage.data()), size};
}

send_outcome outcome_of(ssize_t written) {
  if (written >= 0) return {static_cast<std::size_t>(written), 0};
  return failed_send(errno);
}

}  // namespace

send_outcome failed_send(int error) {
  if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR) return {};
  return {0, error};
}

std::optional<std::size_t> copied_size(std::span<const ws_outgoing> batch) {
  const std::size_t count = std::min(batch.size(), kMaxBatchEntries);
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    total += wire_size(batch[i]);
    if (total > kCopiedBatchBytes) return std::nullopt;
  }
  return total;
}

void copy_batch(std::span<const ws_outgoing> batch, char* out) {
  header_bytes storage;
  for (const ws_outgoing& entry : batch.first(std::min(batch.size(), kMaxBatchEntries))) {
    const std::span<const char> head = header_of(entry, storage);
    out = std::copy_n(head.data(), head.size(), out);
    out = std::copy_n(entry.bytes->data(), entry.bytes->size(), out);
  }
}

send_outcome send_batch(int fd, std::span<const ws_outgoing> batch, std::size_t offset) {
  if (const auto total = copied_size(batch)) {
    // Filled and sent within one call, on the calling thread (the hub's or a send lane's).
    thread_local std::array<char, kCopiedBatchBytes> buffer;
    copy_batch(batch, buffer.data());
    return outcome_of(::send(fd, buffer.data() + offset, *total - offset, MSG_NOSIGNAL | MSG_DONTWAIT));
  }
  const std::size_t count = std::min(batch.size(), kMaxBatchEntries);
  std::array<header_bytes, kMaxBatchEntries> heads;
  std::array<iovec, 2 * kMaxBatchEntries> iov;
  std::size_t iovs = 0;
  std::size_t skip = offset;
  const auto add = [&](const void* data, std::size_t size) {
    if (skip >= size) {
      skip -= size;
      return;
    }
    iov[iovs++] = iovec{const_cast<char*>(static_cast<const char*>(data)) + skip, size - skip};
    skip = 0;
  };
  for (std::size_t i = 0; i < count; ++i) {
    const std::span<const char> head = header_of(batch[i], heads[i]);
    add(head.data(), head.size());  // an empty head adds no iovec
    add(batch[i].bytes->data(), batch[i].bytes->size());
  }
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iovs;
  return outcome_of(::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT));
}

std::size_t settle_batch(std::span<ws_outgoing> batch, std::size_t sent, std::size_t& offset) {
  std::size_t done = 0;
  for (; done < batch.size(); ++done) {
    const std::size_t left = wire_size(batch[done]) - offset;
    if (sent < left) break;
    sent -= left;
    offset = 0;
    batch[done].bytes.reset();
  }
  offset += sent;
  return done;
}

}  // namespace progress::server
