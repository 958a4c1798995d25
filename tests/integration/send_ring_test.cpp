// io_uring sends (send_ring) over real sockets: each job's bytes and outcome as send_batch would
// give them, through more jobs than one system call takes and more bytes than the arena holds; and
// the hub thread's ring_queue answering every session on that thread, next batches included.
#include "send/send_ring.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "send/ring_queue.hpp"
#include "support/batch_sockets.hpp"

namespace progress::server {
namespace {

using test::socket_pair;
using test::text;
using test::whole;

// The bytes a batch puts on the wire, made by the one-call path the ring must match.
std::string wire_of(const std::vector<ws_outgoing>& batch) {
  socket_pair pair;
  const send_outcome outcome = send_batch(pair.server(), batch, 0);
  if (outcome.error != 0) throw std::runtime_error("send_batch failed");
  return pair.drain();
}

class SendRing : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    ring_ = send_ring::open(why);
    // A kernel may refuse io_uring (seccomp, kernel.io_uring_disabled); the server then makes one
    // send call per write, which the SendBatch and SendLane suites cover.
    if (!ring_) GTEST_SKIP() << "io_uring refused here: " << why;
  }
  std::unique_ptr<send_ring> ring_;
};

TEST_F(SendRing, EveryJobGetsItsOwnBytesThroughMoreJobsThanOneCallTakes) {
  const std::size_t count = kRingEntries + 44;
  std::vector<socket_pair> pairs(count);
  std::vector<std::vector<ws_outgoing>> batches(count);
  std::vector<send_job> jobs;
  for (std::size_t i = 0; i < count; ++i) {
    batches[i] = {text("event " + std::to_string(i)), whole("!")};
    // Every third job resumes a write that got its first two bytes out last time.
    jobs.push_back(send_job{nullptr, pairs[i].server(), &batches[i], i % 3 == 0 ? 2u : 0u, {}});
  }
  ring_->send_all(jobs);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string wire = wire_of(batches[i]).substr(jobs[i].offset);
    EXPECT_EQ(jobs[i].outcome.error, 0) << i;
    EXPECT_EQ(jobs[i].outcome.sent, wire.size()) << i;
    EXPECT_EQ(pairs[i].drain(), wire) << i;
  }
}

TEST_F(SendRing, ARoundLargerThanTheArenaArrivesWhole) {
  // Batches just under the copy limit: the arena holds about sixteen of them per system call.
  const std::size_t count = 2 * kRingArenaBytes / kCopiedBatchBytes + 3;
  std::vector<socket_pair> pairs(count);
  std::vector<std::vector<ws_outgoing>> batches(count);
  std::vector<send_job> jobs;
  for (std::size_t i = 0; i < count; ++i) {
    batches[i] = {text(std::string(kCopiedBatchBytes - 4, static_cast<char>('a' + i % 26)))};
    jobs.push_back(send_job{nullptr, pairs[i].server(), &batches[i], 0, {}});
  }
  ring_->send_all(jobs);
  for (std::size_t i = 0; i < count; ++i) {
    EXPECT_EQ(jobs[i].outcome.sent, kCopiedBatchBytes) << i;
    EXPECT_EQ(pairs[i].drain(), wire_of(batches[i])) << i;
  }
}

TEST_F(SendRing, ALargeBatchIsGatheredBesideRingSends) {
  std::vector<socket_pair> pairs(3);
  std::vector<std::vector<ws_outgoing>> batches{
      {text("small")}, {text("head"), text(std::string(kCopiedBatchBytes, 'b')), whole("tail")}, {text("after")}};
  std::vector<send_job> jobs;
  for (std::size_t i = 0; i < 3; ++i) jobs.push_back(send_job{nullptr, pairs[i].server(), &batches[i], 0, {}});
  ring_->send_all(jobs);
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string wire = wire_of(batches[i]);
    EXPECT_EQ(jobs[i].outcome.sent, wire.size()) << i;
    EXPECT_EQ(pairs[i].drain(), wire) << i;
  }
}

TEST_F(SendRing, AFullSocketTakesNothingAndAClosedOneIsAnError) {
  std::vector<socket_pair> pairs(3);
  const std::size_t already = pairs[0].fill();
  pairs[1].close_peer();
  std::vector<std::vector<ws_outgoing>> batches{{text("waits")}, {text("lost")}, {text("fine")}};
  std::vector<send_job> jobs;
  for (std::size_t i = 0; i < 3; ++i) jobs.push_back(send_job{nullptr, pairs[i].server(), &batches[i], 0, {}});
  ring_->send_all(jobs);
  EXPECT_EQ(jobs[0].outcome.error, 0) << "a full socket is not a failure: the session waits for it";
  EXPECT_EQ(jobs[0].outcome.sent, 0u);
  EXPECT_EQ(pairs[0].drain().size(), already);
  EXPECT_EQ(jobs[1].outcome.error, EPIPE);
  EXPECT_EQ(jobs[2].outcome.error, 0);
  EXPECT_EQ(pairs[2].drain(), wire_of(batches[2]));
}

// A session as the queue sees it: answers are recorded, and the first answer may hand over a
// second batch, as a session does when the hub queued more frames meanwhile.
struct queue_client : lane_client, std::enable_shared_from_this<queue_client> {
  ring_queue* queue = nullptr;
  int fd = -1;
  std::vector<ws_outgoing> batch;
  std::vector<ws_outgoing> next;
  std::vector<send_outcome> answers;
  void on_sent(send_outcome outcome) override {
    answers.push_back(outcome);
    if (next.empty()) return;
    batch = std::move(next);
    next.clear();
    queue->submit(send_job{shared_from_this(), fd, &batch, 0, {}});
  }
};

TEST_F(SendRing, TheHubQueueSendsAPassInOneRoundAndAnswersEverySession) {
  net::io_context ioc{1};
  ring_queue queue(ioc, std::move(ring_));
  std::vector<socket_pair> pairs(5);
  std::vector<std::shared_ptr<queue_client>> clients;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    auto client = std::make_shared<queue_client>();
    client->queue = &queue;
    client->fd = pairs[i].server();
    client->batch = {text("first " + std::to_string(i))};
    if (i % 2 == 0) client->next = {text("second " + std::to_string(i))};
    queue.submit(send_job{client, client->fd, &client->batch, 0, {}});
    clients.push_back(client);
  }
  EXPECT_TRUE(clients[0]->answers.empty()) << "the writes wait for the pass to end";
  ioc.run();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    std::string expected = wire_of({text("first " + std::to_string(i))});
    if (i % 2 == 0) expected += wire_of({text("second " + std::to_string(i))});
    ASSERT_EQ(clients[i]->answers.size(), i % 2 == 0 ? 2u : 1u) << i;
    for (const send_outcome& answer : clients[i]->answers) EXPECT_EQ(answer.error, 0);
    EXPECT_EQ(pairs[i].drain(), expected) << i;
  }
  queue.stop();
}

}  // namespace
}  // namespace progress::server
