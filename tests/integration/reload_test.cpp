// SIGHUP on the real binary: the API key and the token secrets are read again from their files while
// every socket stays open; two token secrets (--token-secret-file, --token-secret-previous-file)
// rotate with no refusal; a reload that fails keeps the old values and says why in the log.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/fixed_tokens.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

// An HS256 JWT for `process_id` (exp in 2100) signed with `secret`, as any JWT library makes it.
std::string mint(const std::string& secret, const std::string& process_id) {
  const std::string signed_part = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." +
                                  base64url(R"({"sub":")" + process_id + R"(","exp":4102444800})");
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac.data(), &size);
  return signed_part + "." + base64url(std::string_view(reinterpret_cast<const char*>(mac.data()), size));
}

std::map<std::string, std::string> bearer(const std::string& value) {
  return {{"Authorization", "Bearer " + value}};
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text << "\n";
  if (!file) throw std::runtime_error("cannot write " + path.string());
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Sends SIGHUP and waits until the hub has logged one more `event` (reload_done or reload_failed);
// the wait is a hang guard, not a speed assertion.
// reload_done is logged at info, which the test hubs' default (warn) leaves out.
const std::vector<std::string> kInfoLog = {"--log-level", "info"};

std::vector<std::string> with_info_log(std::vector<std::string> flags) {
  flags.insert(flags.end(), kInfoLog.begin(), kInfoLog.end());
  return flags;
}

void reload(const server_process& hub, const std::string& event) {
  const std::size_t before = count(hub.stderr_text(), " " + event);
  ASSERT_EQ(::kill(hub.pid(), SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + kGuard;
  while (count(hub.stderr_text(), " " + event) == before) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no " << event << " in:\n" << hub.stderr_text();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

unsigned create(unsigned short port, const std::string& id, const std::string& key) {
  return http_call(port, "POST", "/api/processes", R"({"process_id":")" + id + R"("})", bearer(key)).status;
}

TEST(Reload, NewApiKeyFromItsFileOldKeyRefusedSubscriberKeepsReceiving) {
  temp_dir secrets;
  const auto key_file = secrets.path() / "key";
  write_file(key_file, "old-key");
  server_process hub(with_info_log({"--api-key-file", key_file.string()}), 0, true);
  ASSERT_EQ(create(hub.port(), "reload-1", "old-key"), 201u);
  ws_client subscriber(hub.port(), "/ws/progress/reload-1");
  EXPECT_EQ(subscriber.read_json()["type"], "hello");
  EXPECT_EQ(subscriber.read_json()["type"], "snapshot");

  write_file(key_file, "new-key");
  reload(hub, "reload_done");

  EXPECT_EQ(create(hub.port(), "reload-2", "old-key"), 401u);
  EXPECT_EQ(create(hub.port(), "reload-2", "new-key"), 201u);
  const auto published = http_call(hub.port(), "POST", "/api/processes/reload-1/progress",
                                   R"({"percent":30,"stage":"after"})", bearer("new-key"));
  EXPECT_EQ(published.status, 200u) << published.body;
  const Json event = subscriber.read_until_type("progress");
  EXPECT_EQ(event["percent"], 30);
  EXPECT_EQ(event["stage"], "after");
  // The key itself is never logged.
  EXPECT_EQ(hub.stderr_text().find("new-key"), std::string::npos) << hub.stderr_text();
}

TEST(Reload, AKeyFileGoneKeepsTheOldKeyAndSaysWhy) {
  temp_dir secrets;
  const auto key_file = secrets.path() / "key";
  write_file(key_file, "kept-key");
  server_process hub(with_info_log({"--api-key-file", key_file.string()}), 0, true);
  std::filesystem::remove(key_file);
  reload(hub, "reload_failed");
  EXPECT_EQ(create(hub.port(), "kept-1", "kept-key"), 201u);
  const std::string log = hub.stderr_text();
  EXPECT_NE(log.find(key_file.string()), std::string::npos) << log;
}

TEST(Reload, TokenSecretsRotateWithThePreviousOneStillAccepted) {
  temp_dir secrets;
  const auto current = secrets.path() / "secret";
  const auto previous = secrets.path() / "previous";
  write_file(current, "secret-a");
  write_file(secrets.path() / "key", "k");
  // The previous secret's file need not exist until a rotation writes it.
  server_process hub(with_info_log({"--api-key-file", (secrets.path() / "key").string(), "--token-secret-file",
                                    current.string(), "--token-secret-previous-file", previous.string()}),
                     0, true);
  ASSERT_EQ(create(hub.port(), "rotate-1", "k"), 201u);
  const auto read_with = [&](const std::string& secret) {
    return http_call(hub.port(), "GET", "/api/processes/rotate-1", {}, bearer(mint(secret, "rotate-1"))).status;
  };
  EXPECT_EQ(read_with("secret-a"), 200u);
  EXPECT_EQ(read_with("secret-b"), 401u);
  ws_client subscriber(hub.port(), "/ws/progress/rotate-1?token=" + mint("secret-a", "rotate-1"));
  EXPECT_EQ(subscriber.read_json()["type"], "hello");
  EXPECT_EQ(subscriber.read_json()["type"], "snapshot");

  // Rotation: the new secret signs from now on, tokens the old one signed stay good until they expire.
  write_file(previous, "secret-a");
  write_file(current, "secret-b");
  reload(hub, "reload_done");
  EXPECT_EQ(read_with("secret-a"), 200u);
  EXPECT_EQ(read_with("secret-b"), 200u);
  ws_client with_old(hub.port(), "/ws/progress/rotate-1?token=" + mint("secret-a", "rotate-1"));
  EXPECT_EQ(with_old.read_json()["type"], "hello");
  EXPECT_EQ(with_old.read_json()["type"], "snapshot");

  // The old tokens have expired: the previous secret is dropped.
  write_file(previous, "");
  reload(hub, "reload_done");
  EXPECT_EQ(read_with("secret-a"), 401u);
  EXPECT_EQ(read_with("secret-b"), 200u);

  ASSERT_EQ(http_call(hub.port(), "POST", "/api/processes/rotate-1/progress", R"({"percent":5})", bearer("k")).status,
            200u);
  EXPECT_EQ(subscriber.read_until_type("progress")["percent"], 5);
}

TEST(Reload, AnEmptyTokenSecretFileKeepsTheOldSecret) {
  temp_dir secrets;
  const auto current = secrets.path() / "secret";
  write_file(current, "secret-kept");
  server_process hub(with_info_log({"--token-secret-file", current.string()}), 0, true);
  ASSERT_EQ(create(hub.port(), "kept-2", ""), 201u);
  write_file(current, "");
  reload(hub, "reload_failed");
  EXPECT_EQ(http_call(hub.port(), "GET", "/api/processes/kept-2", {}, bearer(mint("secret-kept", "kept-2"))).status,
            200u);
}

}  // namespace
}  // namespace progress::test
