// What uploads leave on disk and in the process table: the data dir and everything in it private,
// an upload's file gone once its job ends (or can never run), a temporary data dir gone with the hub,
// and the upload quota keeping room in the process table for producers.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

namespace fs = std::filesystem;

std::string document(std::size_t bytes) {
  std::string text;
  while (text.size() < bytes) text += "uploads stay private and go away when their job ends\n";
  return text;
}

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

std::vector<fs::path> uploads_in(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".upload") found.push_back(entry.path());
  }
  return found;
}

// Follows `id` to its terminal frame and returns that frame.
Json wait_for_end(ws_client& ws) {
  while (true) {
    const Json frame = ws.read_json();
    const std::string state = frame.value("state", "");
    if (state == "completed" || state == "failed" || state == "cancelled") return frame;
  }
}

std::string octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode);
  return text;
}

TEST(UploadData, TheDataDirIsPrivateAndAnUploadIsDeletedWhenItsJobEnds) {
  temp_dir parent;
  const fs::path data = parent.path() / "data";  // made by the hub, not by mkdtemp
  server_process server({"--data-dir", data.string()});
  ws_client ws(server.port(), "/ws/progress/private-1");
  ASSERT_EQ(http_call(server.port(), "POST", "/api/uploads?process_id=private-1", document(200'000)).status, 202u);
  ws_client failing(server.port(), "/ws/progress/private-2");
  ASSERT_EQ(http_call(server.port(), "POST", "/api/uploads?process_id=private-2", std::string(50'000, '\x01')).status,
            202u);
  EXPECT_EQ(wait_for_end(ws)["state"], "completed");
  EXPECT_EQ(wait_for_end(failing)["state"], "failed");

  EXPECT_EQ(octal(mode_of(data)), "0700");
  EXPECT_EQ(octal(mode_of(data / "progress.db")), "0600");
  for (const auto& entry : fs::directory_iterator(data)) {
    EXPECT_EQ(octal(mode_of(entry.path())), "0600") << entry.path();
  }
  EXPECT_TRUE(uploads_in(data).empty()) << uploads_in(data).front();
}

TEST(UploadData, ADatabaseAnOlderHubLeftReadableBecomesPrivate) {
  temp_dir parent;
  const fs::path data = parent.path() / "data";
  {
    server_process first({"--data-dir", data.string()});
    ASSERT_EQ(http_call(first.port(), "POST", "/api/processes", R"({"process_id":"older-1"})").status, 201u);
    ASSERT_TRUE(first.terminate().exited);
  }
  fs::permissions(data, fs::perms(0755), fs::perm_options::replace);
  fs::permissions(data / "progress.db", fs::perms(0644), fs::perm_options::replace);
  server_process second({"--data-dir", data.string()});
  EXPECT_EQ(http_call(second.port(), "GET", "/api/processes/older-1").status, 200u);
  EXPECT_EQ(octal(mode_of(data)), "0700");
  EXPECT_EQ(octal(mode_of(data / "progress.db")), "0600");
}

TEST(UploadData, LeftoverUploadsAreDeletedAtStartUp) {
  temp_dir parent;
  const fs::path data = parent.path() / "data";
  fs::create_directories(data);
  std::ofstream(data / "gone-1.1.upload") << "a job that never ran";
  std::ofstream(data / "keep.txt") << "not an upload";
  server_process server({"--data-dir", data.string()});
  EXPECT_TRUE(uploads_in(data).empty());
  EXPECT_TRUE(fs::exists(data / "keep.txt"));
}

TEST(UploadData, UploadsQueuedAtShutdownAreDeleted) {
  server_process server;
  const std::string big = document(2 * 1024 * 1024);  // the first job is still running when the rest arrive
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(http_call(server.port(), "POST", "/api/uploads?process_id=queued-" + std::to_string(i), big).status,
              202u);
  }
  const auto status = server.terminate();
  EXPECT_TRUE(status.exited);
  EXPECT_TRUE(uploads_in(server.data_dir()).empty()) << uploads_in(server.data_dir()).size() << " files left";
}

// Without --data-dir the hub makes its own folder under $TMPDIR and must take it away again.
TEST(UploadData, AHubWithoutDataDirRemovesItsTemporaryFolderOnExit) {
  temp_dir tmp;
  const std::string script =
      "TMPDIR=" + tmp.path().string() + " " + PROGRESS_HUB_BINARY +
      " --listen 127.0.0.1:0 --log-level warn > " + (tmp.path() / "out").string() +
      " & pid=$!; while ! grep -q 'listening on' " + (tmp.path() / "out").string() +
      "; do sleep 0.05; done; ls -d " + tmp.path().string() + "/progress-hub-* > /dev/null || exit 3; " +
      "kill -TERM $pid; wait $pid";
  const auto status = run_program("/bin/sh", {"-c", script});
  ASSERT_TRUE(status.exited);
  ASSERT_EQ(status.code, 0) << "the hub made no temporary folder (3) or did not exit cleanly";
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(tmp.path())) {
    if (entry.path().filename().string().rfind("progress-hub-", 0) == 0) left.push_back(entry.path());
  }
  EXPECT_TRUE(left.empty()) << left.front();
}

// --open-uploads lets anyone upload; each upload's record stays for the retention period after its
// job ends. The quota caps those records (here a tenth of 40), so a producer can still create one.
TEST(UploadQuota, UploadsWithoutAKeyCannotFillTheProcessTable) {
  temp_dir secrets;
  std::ofstream(secrets.path() / "key") << "producer-key";
  server_process server({"--open-uploads", "true", "--api-key-file", (secrets.path() / "key").string(),
                         "--max-processes", "40"});
  unsigned accepted = 0;
  http_reply refused;
  for (int i = 0; i < 60; ++i) {
    const auto reply = http_call(server.port(), "POST", "/api/uploads", "a small document of a few words\n");
    if (reply.status == 202) {
      ++accepted;
    } else {
      refused = reply;
    }
  }
  EXPECT_EQ(accepted, 4u);
  ASSERT_EQ(refused.status, 503u) << refused.body;
  EXPECT_EQ(refused.json()["error"]["limit"], "max_uploads") << refused.body;
  EXPECT_EQ(refused.json()["error"]["max"], 4) << refused.body;
  EXPECT_EQ(refused.headers["retry-after"], "5");

  const auto producer = http_call(server.port(), "POST", "/api/processes", R"({"process_id":"producer-1"})",
                                  {{"Authorization", "Bearer producer-key"}});
  EXPECT_EQ(producer.status, 201u) << producer.body;
}

// The quota is known from the header: an upload over it is refused before its body is read, so a
// client past its limit cannot make the hub write a file it will refuse.
TEST(UploadQuota, AnUploadOverTheQuotaIsRefusedBeforeItsBody) {
  server_process server({"--open-uploads", "true", "--max-processes", "10"});  // a tenth: 1 upload
  ASSERT_EQ(http_call(server.port(), "POST", "/api/uploads", "a small document of a few words\n").status, 202u);
  // Only the header of a 1 MB body: the answer must come without it.
  const std::string reply = raw_exchange(server.port(),
                                         "POST /api/uploads HTTP/1.1\r\nHost: x\r\n"
                                         "Content-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n",
                                         "}}");
  EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply;
  EXPECT_NE(reply.find(R"("limit":"max_uploads")"), std::string::npos) << reply;
}

}  // namespace
}  // namespace progress::test
