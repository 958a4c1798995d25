#pragma once
// One Server-Sent Events stream (/sse/progress/{id}): the hub's frames as `data:` lines, with
// `id: epoch:seq` on snapshots and events so EventSource resumes through Last-Event-ID, and the
// hub's pings as comment lines (heartbeats that keep proxies from cutting an idle stream).
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hub/hub_service.hpp"
#include "base/log.hpp"
#include "base/net.hpp"
#include "access/tls_context.hpp"

namespace progress::server {

// The SSE text for one hub frame (a JSON object); empty when the frame has nothing to say.
std::string format_sse_event(std::string_view frame);

// Applies a Last-Event-ID header ("epoch:seq") to a parsed /sse target; malformed ids are ignored,
// so the client simply gets a fresh snapshot.
void apply_last_event_id(Target& target, std::string_view last_event_id);

// On plain TCP (sse_session) or TLS (sse_tls_session).
template <class Stream>
class basic_sse_session : public stream_sink, public std::enable_shared_from_this<basic_sse_session<Stream>> {
 public:
  // `ticket` is held until the stream ends (the per-address connection count of access limits).
  basic_sse_session(Stream&& stream, hub_service& hub, const logger& log, Target target,
              std::shared_ptr<void> ticket = {});

  // `extra_head`: header lines (`Name: value\r\n`) added to the answer; `client`: the address the
  // `sse_open` log line names.
  void run(std::string extra_head, std::string client);
  void kick() override;

 private:
  void on_header(error_code ec, std::size_t bytes);
  void do_watch();
  void on_watch(error_code ec, std::size_t bytes);
  void on_write(error_code ec, std::size_t bytes);
  void end();

  Stream stream_;
  std::string head_;  // the response head, alive until written
  hub_service& hub_;
  const logger& log_;
  Target target_;
  std::string client_;  // for the log only
  ConnId conn_ = 0;
  bool registered_ = false;
  bool writing_ = false;
  bool ended_ = false;
  bool close_requested_ = false;
  std::string out_;
  std::array<char, 512> sink_buffer_{};
  std::shared_ptr<void> ticket_;
};

using sse_session = basic_sse_session<beast::tcp_stream>;
using sse_tls_session = basic_sse_session<tls_stream>;
extern template class basic_sse_session<beast::tcp_stream>;
extern template class basic_sse_session<tls_stream>;

}  // namespace progress::server
