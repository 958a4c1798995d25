// The server's pure pieces, without sockets: multipart parsing, path resolution, SSE
// formatting, option parsing and the document analysis.
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "jobs/document_analysis.hpp"
#include "http/multipart.hpp"
#include "sse/sse_session.hpp"
#include "http/static_files.hpp"
#include "http/url_query.hpp"
#include "wire/ws_handshake.hpp"

namespace progress::server {
namespace {

// RFC 6455 1.3's example, computed repeatedly and on a second thread: the SHA-1 context is reused per
// thread, so a stale state between handshakes would show as a wrong answer here.
TEST(WsHandshake, AcceptValueIsTheRfcExampleOnEveryCallAndThread) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  }
  EXPECT_EQ(websocket_accept("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  std::string other;
  std::thread([&] { other = websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="); }).join();
  EXPECT_EQ(other, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

struct parsed_part {
  std::string name;
  std::optional<std::string> filename;
  std::string data;
};

struct parsed_form {
  std::vector<parsed_part> parts;
  std::string error;
};

// Feeds `body` to a multipart_reader `piece` bytes at a time, as a connection's reads would.
parsed_form read_form(std::string_view body, std::string_view boundary, std::size_t piece) {
  parsed_form out;
  multipart_reader::handlers on;
  on.part = [&](const form_part_header& header) -> std::optional<std::string> {
    out.parts.push_back({header.name, header.filename, {}});
    return std::nullopt;
  };
  on.data = [&](std::string_view bytes) -> std::optional<std::string> {
    out.parts.back().data.append(bytes);
    return std::nullopt;
  };
  on.part_end = []() -> std::optional<std::string> { return std::nullopt; };
  multipart_reader reader(boundary, std::move(on));
  for (std::size_t at = 0; at < body.size(); at += piece) {
    if (auto error = reader.feed(body.substr(at, piece))) {
      out.error = *error;
      return out;
    }
  }
  if (auto error = reader.finish()) out.error = *error;
  return out;
}

TEST(Multipart, FindsFieldsAndFileHoweverTheBodyIsSplit) {
  const std::string body =
      "preamble\r\n--XX\r\nContent-Disposition: form-data; name=\"process_id\"\r\n\r\nabc-1\r\n"
      "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a;b.txt\"\r\nContent-Type: text/plain\r\n\r\n"
      "line 1\r\nline 2\r\n--X\r\n--XX--\r\n";
  ASSERT_EQ(multipart_boundary("multipart/form-data; boundary=XX"), "XX");
  ASSERT_EQ(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"XX\""), "XX");
  EXPECT_FALSE(multipart_boundary("application/json").has_value());
  for (std::size_t piece = 1; piece <= body.size(); ++piece) {
    SCOPED_TRACE(piece);
    const auto form = read_form(body, "XX", piece);
    ASSERT_TRUE(form.error.empty()) << form.error;
    ASSERT_EQ(form.parts.size(), 2u);
    EXPECT_EQ(form.parts[0].name, "process_id");
    EXPECT_EQ(form.parts[0].data, "abc-1");
    EXPECT_EQ(form.parts[1].name, "file");
    EXPECT_EQ(form.parts[1].filename, "a;b.txt");
    EXPECT_EQ(form.parts[1].data, "line 1\r\nline 2\r\n--X");
  }
}

TEST(Multipart, RejectsBrokenBodies) {
  EXPECT_FALSE(read_form("no boundary here", "XX", 4).error.empty());
  EXPECT_FALSE(read_form("--XX\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nunterminated", "XX", 4).error.empty());
  EXPECT_FALSE(read_form("--XX\r\nX-Other: 1\r\n\r\ndata\r\n--XX--", "XX", 4).error.empty());
  EXPECT_FALSE(read_form("--XX--", "", 4).error.empty());
  EXPECT_FALSE(read_form("--XXgarbage", "XX", 4).error.empty());
}

TEST(Multipart, APartHeaderThatNeverEndsIsRefusedAtItsLimit) {
  const std::string endless = "--XX\r\nContent-Disposition: form-data; name=\"f\"; x=\"" +
                              std::string(2 * kMaxPartHeaderBytes, 'h');
  const auto form = read_form(endless, "XX", 1024);
  EXPECT_NE(form.error.find("part header is over"), std::string::npos) << form.error;
}

TEST(StaticFiles, ResolvesInsideTheRootOnly) {
  const std::filesystem::path root = "/srv/web";
  EXPECT_EQ(resolve_static_path(root, "/"), root / "index.html");
  EXPECT_EQ(resolve_static_path(root, "/pkg/app.js"), root / "pkg" / "app.js");
  EXPECT_EQ(resolve_static_path(root, "/a%20b.txt"), root / "a b.txt");
  for (const char* bad : {"/../etc/passwd", "/%2e%2e/x", "/a/..%2f..%2fx", "/a\\..\\x", "/%00", "/%zz", "relative"}) {
    EXPECT_FALSE(resolve_static_path(root, bad).has_value()) << bad;
  }
  EXPECT_FALSE(resolve_static_path({}, "/index.html").has_value());
  EXPECT_EQ(mime_type("/x/app.WASM"), "application/wasm");
  EXPECT_EQ(mime_type("/x/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type("/x.d/noext"), "application/octet-stream");
}

TEST(UrlQuery, CredentialsAreRedactedForLogs) {
  EXPECT_EQ(redact_secrets("/ws/publish?api_key=s3cret&x=1"), "/ws/publish?api_key=REDACTED&x=1");
  EXPECT_EQ(redact_secrets("/sse/progress/a?after_seq=2&token=eyJ.x.y"), "/sse/progress/a?after_seq=2&token=REDACTED");
  EXPECT_EQ(redact_secrets("/a?access_token=t&api_key"), "/a?access_token=REDACTED&api_key=REDACTED");
  EXPECT_EQ(redact_secrets("/healthz"), "/healthz");
}

TEST(ServerSentEvents, FramesGetIdsAndPingsBecomeComments) {
  EXPECT_EQ(format_sse_event(R"({"type":"progress","epoch":"ab12cd34","seq":7,"percent":5})"),
            "id: ab12cd34:7\ndata: {\"type\":\"progress\",\"epoch\":\"ab12cd34\",\"seq\":7,\"percent\":5}\n\n");
  EXPECT_EQ(format_sse_event(R"({"type":"pending","process_id":"x"})"),
            "data: {\"type\":\"pending\",\"process_id\":\"x\"}\n\n");
  EXPECT_EQ(format_sse_event(R"({"type":"ping","ts":42})"), ": ping 42\n\n");
  Target target;
  apply_last_event_id(target, "ab12cd34:7");
  EXPECT_EQ(target.after_seq, 7u);
  EXPECT_EQ(target.epoch, "ab12cd34");
  Target untouched;
  apply_last_event_id(untouched, "garbage");
  EXPECT_FALSE(untouched.after_seq.has_value());
}

TEST(Config, FlagsOverrideEnvironmentWhichOverridesDefaults) {
  const std::map<std::string, std::string> env = {{"PROGRESS_LISTEN", "0.0.0.0:9000"}, {"PROGRESS_HISTORY", "32"}};
  const auto lookup = [&](const char* name) -> std::optional<std::string> {
    const auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  const auto parsed = parse_config({"--history", "64", "--heartbeat-ms=5000"}, lookup);
  ASSERT_TRUE(parsed.config) << parsed.error;
  EXPECT_EQ(parsed.config->listen_host, "0.0.0.0");
  EXPECT_EQ(parsed.config->listen_port, 9000);
  EXPECT_EQ(parsed.config->hub.history, 64u);
  EXPECT_EQ(parsed.config->hub.heartbeat_ms, 5000);
  const auto none = [](const char*) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_FALSE(parse_config({"--listen", "nope"}, none).error.empty());
  EXPECT_FALSE(parse_config({"--history"}, none).error.empty());
  EXPECT_FALSE(parse_config({"--bogus", "1"}, none).error.empty());
  EXPECT_FALSE(parse_config({"--log-level", "loud"}, none).error.empty());
  EXPECT_TRUE(parse_config({"--help"}, none).show_help);
  EXPECT_TRUE(parse_config({"--version"}, none).show_version);
  EXPECT_FALSE(parse_config({"--version"}, none).config);
}

// io_uring sends are the default; the flag and its environment variable turn them off, and a value
// that is neither on nor off is a configuration error, not a silent default.
TEST(Config, IoUringIsOnUnlessTurnedOff) {
  const auto none = [](const char*) -> std::optional<std::string> { return std::nullopt; };
  ASSERT_TRUE(parse_config({}, none).config);
  EXPECT_TRUE(parse_config({}, none).config->io_uring);
  const auto off = parse_config({"--io-uring", "off"}, none);
  ASSERT_TRUE(off.config) << off.error;
  EXPECT_FALSE(off.config->io_uring);
  const auto env_off = [](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == "PROGRESS_IO_URING") return "off";
    return std::nullopt;
  };
  ASSERT_TRUE(parse_config({}, env_off).config);
  EXPECT_FALSE(parse_config({}, env_off).config->io_uring);
  EXPECT_TRUE(parse_config({"--io-uring", "on"}, env_off).config->io_uring);
  EXPECT_NE(parse_config({"--io-uring", "yes"}, none).error.find("--io-uring"), std::string::npos);
}

class DocumentAnalysis : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& bytes) {
    path_ = std::filesystem::temp_directory_path() /
            ("progress-analysis-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::ofstream(path_, std::ios::binary) << bytes;
    return path_;
  }
  void TearDown() override { std::filesystem::remove(path_); }

  job_outcome run(const std::string& bytes) {
    updates_.clear();
    return analyse_document(write(bytes), [this](job_update u) { updates_.push_back(std::move(u)); }, stop_);
  }

  std::filesystem::path path_;
  std::vector<job_update> updates_;
  std::atomic<bool> stop_{false};
};

TEST_F(DocumentAnalysis, CountsLinesWordsAndTopWordsWithUtf8) {
  const auto outcome = run("Der Bär läuft.\nthe bear runs, the end\n\nBär!");
  ASSERT_TRUE(outcome.completed) << outcome.value;
  EXPECT_EQ(outcome.value["lines"], 3);
  EXPECT_EQ(outcome.value["words"], 9);
  EXPECT_EQ(outcome.value["top_words"][0], (Json{{"word", "bär"}, {"count", 2}}));
  EXPECT_EQ(outcome.value["top_words"][1], (Json{{"word", "the"}, {"count", 2}}));
}

// FIPS 180-2's vectors through the job's own reading: the million-byte file is read in 64 KiB
// chunks, so the digest crosses block and chunk boundaries.
TEST_F(DocumentAnalysis, Sha256IsTheFipsDigestOfTheFile) {
  const auto small = run("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  ASSERT_TRUE(small.completed) << small.value;
  EXPECT_EQ(small.value["sha256"], "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const auto million = run(std::string(1'000'000, 'a'));
  ASSERT_TRUE(million.completed) << million.value;
  EXPECT_EQ(million.value["sha256"], "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_F(DocumentAnalysis, ProgressFollowsTheBytesInStageOrder) {
  std::string big;
  while (big.size() < 1'000'000) big += "some words on a line\n";
  ASSERT_TRUE(run(big).completed);
  ASSERT_GT(updates_.size(), 20u);
  EXPECT_LE(updates_.size(), 110u);  // throttled to whole-percent steps
  EXPECT_EQ(updates_.front().stage, kStageReceived);
  double last = -1;
  std::vector<std::string> stages;
  for (const auto& u : updates_) {
    EXPECT_GE(u.percent, last);
    last = u.percent;
    if (stages.empty() || stages.back() != u.stage) stages.push_back(u.stage);
  }
  EXPECT_EQ(stages, (std::vector<std::string>{kStageReceived, kStageChecksum, kStageTextExtraction, kStageAnalysis}));
  EXPECT_LT(last, 100);  // 100 belongs to the completed event
}

TEST_F(DocumentAnalysis, BinaryInputFailsAsUnreadable) {
  std::string binary;
  for (int i = 0; i < 50'000; ++i) binary += static_cast<char>((i * 7919 + i / 3) % 256);
  const auto outcome = run(binary);
  EXPECT_FALSE(outcome.completed);
  EXPECT_EQ(outcome.value["code"], "unreadable");
}

TEST_F(DocumentAnalysis, InvalidUtf8EndsTextRuns) {
  // An overlong encoding and a lone continuation byte are not text; the words around them are.
  const auto outcome = run(std::string("alpha beta\xC0\xAFgamma delta\x80omega words here\n"));
  ASSERT_TRUE(outcome.completed) << outcome.value;
  EXPECT_EQ(outcome.value["words"], 7);
}

// Past 100,000 distinct words the word table stops growing; the result says so.
TEST_F(DocumentAnalysis, MoreDistinctWordsThanTheCapCompleteTruncated) {
  constexpr std::size_t kDistinct = 100'000 + 5'000;
  std::string text;
  for (std::size_t i = 0; i < kDistinct; ++i) {
    std::string word = "w";
    for (std::size_t n = i; n > 0; n /= 26) word += static_cast<char>('a' + n % 26);
    text += word;
    text += i % 12 == 11 ? '\n' : ' ';
  }
  text += "\nw w w\n";
  const auto outcome = run(text);
  ASSERT_TRUE(outcome.completed) << outcome.value;
  EXPECT_EQ(outcome.value.value("truncated", false), true) << outcome.value.dump().substr(0, 300);
  EXPECT_EQ(outcome.value["unique_words"], 100'000);
  EXPECT_EQ(outcome.value["words"], kDistinct + 3);
  EXPECT_EQ(outcome.value["top_words"][0], (Json{{"word", "w"}, {"count", 4}}));
}

TEST_F(DocumentAnalysis, AFileWithinTheCapIsNotTruncated) {
  const auto outcome = run("few words, few words\n");
  ASSERT_TRUE(outcome.completed) << outcome.value;
  ASSERT_TRUE(outcome.value.contains("truncated")) << outcome.value;
  EXPECT_EQ(outcome.value["truncated"], false);
}

// One text run as long as the file, and one "word" as long as the file: both stream through.
TEST_F(DocumentAnalysis, ARunWithoutBreaksAndAnEndlessWordStillCount) {
  const auto outcome = run(std::string(3'000'000, 'x') + " tail\n");
  ASSERT_TRUE(outcome.completed) << outcome.value;
  EXPECT_EQ(outcome.value["words"], 2);
  EXPECT_EQ(outcome.value["unique_words"], 1);  // the long one is data, not a word to tally
  EXPECT_EQ(outcome.value["text_bytes"], 3'000'006);
}

}  // namespace
}  // namespace progress::server
