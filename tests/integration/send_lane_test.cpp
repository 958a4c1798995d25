// The write path of a WebSocket session without the session: a gathered batch over a real socket,
// how a partial write is settled, and a send lane writing for several clients and answering each
// on the io_context's thread (where every session lives).
#include "send/send_lane.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "support/batch_sockets.hpp"

namespace progress::server {
namespace {

using test::socket_pair;
using test::text;
using test::whole;

TEST(SendBatch, TextPayloadsGetHeadersAndWholeFramesGoAsTheyAre) {
  socket_pair pair;
  const std::vector<ws_outgoing> batch{whole("HTTP/1.1 101\r\n\r\n"), text("ab"),
                                       text(std::string(200, 'x'))};
  const send_outcome outcome = send_batch(pair.server(), batch, 0);
  EXPECT_EQ(outcome.error, 0);
  const std::string expected = "HTTP/1.1 101\r\n\r\n" + std::string("\x81\x02" "ab") +
                               std::string("\x81\x7e\x00\xc8", 4) + std::string(200, 'x');
  EXPECT_EQ(outcome.sent, expected.size());
  EXPECT_EQ(pair.drain(), expected);
}

TEST(SendBatch, AnOffsetResumesInsideAFrameHeader) {
  socket_pair pair;
  const std::vector<ws_outgoing> batch{text("hello"), text("world")};
  // One byte of the first header went out last time.
  const send_outcome outcome = send_batch(pair.server(), batch, 1);
  EXPECT_EQ(pair.drain(), std::string("\x05" "hello" "\x81\x05" "world"));
  EXPECT_EQ(outcome.sent, 13u);
}

TEST(SendBatch, ALargeBatchIsGatheredInPlaceAndResumesInsideAPayload) {
  // Past kCopiedBatchBytes the batch is not copied but gathered from the payloads themselves.
  socket_pair pair;
  const std::string big(kCopiedBatchBytes, 'b');
  const std::vector<ws_outgoing> batch{text("head"), text(big), whole("tail")};
  // The first frame and 100 bytes of the second one's header and payload went out last time.
  const std::size_t offset = 6 + 100;
  const send_outcome outcome = send_batch(pair.server(), batch, offset);
  EXPECT_EQ(outcome.error, 0);
  const std::string wire = std::string("\x81\x04" "head") + std::string("\x81\x7e\x40\x00", 4) + big + "tail";
  EXPECT_EQ(outcome.sent, wire.size() - offset);
  EXPECT_EQ(pair.drain(), wire.substr(offset));
}

TEST(SendBatch, ABatchOfExactlyTheCopyLimitIsCopiedAndArrivesWhole) {
  socket_pair pair;
  // Two frames whose wire size (headers included) is exactly kCopiedBatchBytes.
  const std::string first(100, 'x');
  const std::string second(kCopiedBatchBytes - (2 + first.size()) - 4, 'y');
  const std::vector<ws_outgoing> batch{text(first), text(second)};
  const send_outcome outcome = send_batch(pair.server(), batch, 3);
  EXPECT_EQ(outcome.error, 0);
  const std::string wire = std::string("\x81\x64") + first + std::string("\x81\x7e", 2) +
                           static_cast<char>(second.size() >> 8) + static_cast<char>(second.size() & 0xFF) + second;
  ASSERT_EQ(wire.size(), kCopiedBatchBytes);
  EXPECT_EQ(outcome.sent, wire.size() - 3);
  EXPECT_EQ(pair.drain(), wire.substr(3));
}

TEST(SendBatch, AClosedPeerIsAnErrorNotACrash) {
  socket_pair pair;
  pair.close_peer();
  const std::vector<ws_outgoing> batch{text("late")};
  EXPECT_EQ(send_batch(pair.server(), batch, 0).error, EPIPE);
}

TEST(SettleBatch, ReleasesWrittenFramesAndKeepsTheOffsetIntoTheFirstUnsent) {
  std::vector<ws_outgoing> batch{text("abc"), whole("XYZW"), text("0123456789")};
  std::size_t offset = 0;
  // 5 bytes of the first frame (2 + 3), 4 of the whole frame, 3 of the last (its header and one byte).
  EXPECT_EQ(settle_batch(batch, 12, offset), 2u);
  EXPECT_EQ(offset, 3u);
  EXPECT_EQ(batch[0].bytes, nullptr);
  EXPECT_EQ(batch[1].bytes, nullptr);
  ASSERT_NE(batch[2].bytes, nullptr);
  // The rest of the last frame.
  std::span<ws_outgoing> rest(batch.data() + 2, 1);
  EXPECT_EQ(settle_batch(rest, 9, offset), 1u);
  EXPECT_EQ(offset, 0u);
}

TEST(SettleBatch, NothingSentKeepsEverything) {
  std::vector<ws_outgoing> batch{text("abc")};
  std::size_t offset = 2;
  EXPECT_EQ(settle_batch(batch, 0, offset), 0u);
  EXPECT_EQ(offset, 2u);
  EXPECT_NE(batch[0].bytes, nullptr);
}

// Records its answer and the thread it came on, as a session would act on it.
struct recording_client : lane_client {
  std::vector<ws_outgoing> batch;
  std::vector<send_outcome> answers;
  std::thread::id answered_on;
  void on_sent(send_outcome outcome) override {
    answers.push_back(outcome);
    answered_on = std::this_thread::get_id();
  }
};

// Parameter: whether the lanes send through io_uring (send_ring) or one send call per job.
class SendLane : public ::testing::TestWithParam<bool> {};

std::string send_path_label(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "io_uring" : "send_calls";
}

INSTANTIATE_TEST_SUITE_P(IoUring, SendLane, ::testing::Bool(), send_path_label);

TEST_P(SendLane, WritesForEveryClientAndAnswersOnTheIoContextThread) {
  net::io_context ioc{1};
  send_lanes lanes(ioc, 2, GetParam());
  std::vector<socket_pair> pairs(6);
  std::vector<std::shared_ptr<recording_client>> clients;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    auto client = std::make_shared<recording_client>();
    client->batch = {text("frame " + std::to_string(i)), whole("!")};
    lanes.next()->submit(send_job{client, pairs[i].server(), &client->batch, 0, {}});
    clients.push_back(client);
  }
  // run() returns only once every lane answered: the lanes hold work on the io_context meanwhile.
  ioc.run();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const std::string frame = "frame " + std::to_string(i);
    ASSERT_EQ(clients[i]->answers.size(), 1u);
    EXPECT_EQ(clients[i]->answers[0].error, 0);
    EXPECT_EQ(clients[i]->answers[0].sent, frame.size() + 3);
    EXPECT_EQ(clients[i]->answered_on, std::this_thread::get_id());
    EXPECT_EQ(pairs[i].drain(), std::string("\x81") + static_cast<char>(frame.size()) + frame + "!");
  }
  lanes.stop();
}

TEST_P(SendLane, AFullSocketIsAnsweredWithWhatItTook) {
  net::io_context ioc{1};
  send_lanes lanes(ioc, 1, GetParam());
  socket_pair pair;
  auto client = std::make_shared<recording_client>();
  for (int i = 0; i < 64; ++i) client->batch.push_back(text(std::string(60'000, 'z')));
  lanes.next()->submit(send_job{client, pair.server(), &client->batch, 0, {}});
  ioc.run();
  ASSERT_EQ(client->answers.size(), 1u);
  EXPECT_EQ(client->answers[0].error, 0);
  EXPECT_GT(client->answers[0].sent, 0u);
  EXPECT_LT(client->answers[0].sent, 64u * 60'004u)
      << "the peer reads nothing: the socket buffer cannot take it all";
  EXPECT_EQ(pair.drain().size(), client->answers[0].sent);
}

TEST(SendLanes, NoLanesMeansSessionsWriteThemselves) {
  net::io_context ioc{1};
  send_lanes lanes(ioc, 0, true);
  EXPECT_EQ(lanes.next(), nullptr);
}

}  // namespace
}  // namespace progress::server
