// SIGTERM while the upload worker thread is busy: the one place the server runs code on a second
// thread (the document job posts its updates to the event loop). Under ThreadSanitizer (the
// native-tsan stage) this is the shutdown race test: stopping the worker, abandoning its queue and
// joining it while it posts. Whether the last job is still queued or already running when the
// signal lands varies; the outcome checked here must hold either way.
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

constexpr int kJobs = 3;
constexpr std::size_t kDocumentBytes = 2 * 1024 * 1024;  // several passes over it: usually still running

TEST(UploadShutdown, SigtermWithJobsRunningAndQueuedExitsZeroAndClosesSubscribersWith1001) {
  server_process server;
  std::string document;
  document.reserve(kDocumentBytes);
  while (document.size() < kDocumentBytes) document += "progress beats spinners, line after line\n";

  ws_client last(server.port(), "/ws/progress/stop-" + std::to_string(kJobs - 1));
  EXPECT_EQ(last.read_json()["type"], "hello");
  for (int i = 0; i < kJobs; ++i) {
    const auto reply = http_call(server.port(), "POST", "/api/uploads?process_id=stop-" + std::to_string(i),
                                 document, {{"Content-Type", "text/plain"}});
    ASSERT_EQ(reply.status, 202u) << reply.body;
  }

  // terminate() blocks until the exit, which waits for our closing handshake: answer it here.
  exit_status status;
  std::thread stopper([&] { status = server.terminate(); });
  ws_message message;
  do {
    message = last.read();
  } while (!message.closed);
  EXPECT_EQ(message.close_code, 1001);
  stopper.join();
  EXPECT_TRUE(status.exited) << "the server did not stop with its upload worker busy";
  EXPECT_EQ(status.code, 0);
}

}  // namespace
}  // namespace progress::test
