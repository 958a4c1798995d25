#pragma once
// What the core's hub-level tests share: building a publish, reading what a connection was sent,
// and naming a connection's target.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "progress/codec.hpp"
#include "progress/hub.hpp"
#include "progress/server_session.hpp"
#include "progress/target.hpp"

namespace progress::test {

inline Publish update(const std::string& id, std::optional<double> percent,
                      std::optional<std::string> stage = std::nullopt,
                      std::optional<State> state = std::nullopt) {
  Publish p;
  p.process_id = id;
  p.percent = percent;
  p.stage = std::move(stage);
  p.state = state;
  return p;
}

// Pops until `pop` has nothing more; every frame must decode.
template <class Source>
std::vector<ServerFrame> drain_frames(Source&& pop) {
  std::vector<ServerFrame> frames;
  while (auto text = pop()) {
    auto frame = decode_server_frame(**text);
    EXPECT_TRUE(frame.ok()) << **text;
    if (frame.ok()) frames.push_back(frame.value());
  }
  return frames;
}

inline std::vector<ServerFrame> drain(Hub& hub, ConnId conn) {
  return drain_frames([&hub, conn] { return hub.poll_outgoing(conn); });
}

inline std::vector<ServerFrame> drain(ServerSession& session) {
  return drain_frames([&session] { return session.poll_outgoing(); });
}

inline Target target(std::string_view text) {
  auto t = parse_target(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Target{});
}

}  // namespace progress::test
