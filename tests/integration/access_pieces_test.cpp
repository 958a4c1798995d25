// The server's access pieces without sockets: the HS256 token verifier against tokens minted by
// an independent implementation (python3's hmac/hashlib/base64, see the comment below), secret
// comparison, bearer parsing, the Origin list, the per-request access decision and the flags.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "access/access_policy.hpp"
#include "access/auth_secret.hpp"
#include "access/auth_token.hpp"
#include "config/config.hpp"
#include "support/fixed_tokens.hpp"

namespace progress::server {
namespace {

using test::base64url;

// Minted with python3 (secret "s3cret-for-tests"):
//   b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
//   h, p = b64(json.dumps(header, separators=(',',':')).encode()), b64(json.dumps(payload, ...).encode())
//   token = f"{h}.{p}." + b64(hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest())
// header {"alg":"HS256","typ":"JWT"} unless named; payload {"sub":"job-1","exp":1700000100} unless named.
constexpr std::string_view kSecret = "s3cret-for-tests";
constexpr Millis kNow = 1'700'000'000'000;  // 100 s before exp
constexpr std::string_view kGood =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqb2ItMSIsImV4cCI6MTcwMDAwMDEwMH0."
    "PIxnMrO4LwkUqphzn4aGrCUpodWUOL4-Fgc3tuaDB3I";
// exp 1699999999
constexpr std::string_view kExpired =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqb2ItMSIsImV4cCI6MTY5OTk5OTk5OX0."
    "wgIfL8g1CLxTeKZVYHCAUlclZIabRHFVHeUd8LyTIWM";
// sub job-2
constexpr std::string_view kOtherProcess =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqb2ItMiIsImV4cCI6MTcwMDAwMDEwMH0."
    "kulMcEq2DwahLMAY7LOH-SXWjINwKs3MXmPc0O0i3dE";
// signed with "another-secret"
constexpr std::string_view kOtherSecret =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqb2ItMSIsImV4cCI6MTcwMDAwMDEwMH0."
    "De0JEiWm_OtOdB5pHUXBZLDV5J3Lz3U9ZH9RpOBDx2Q";
// header {"alg":"HS512","typ":"JWT"}, a valid HMAC-SHA512 signature with the right secret
constexpr std::string_view kHs512 =
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqb2ItMSIsImV4cCI6MTcwMDAwMDEwMH0."
    "8jvVH0yQQ3JK3MK2MuqiuE-xaQqEKXuQE2gCllFedn8qfNKzFi5pQ2qKhmjCiGQdpeHtTR42WxtI-ytXbmQSzg";
// header {"alg":"none","typ":"JWT"}, empty signature
constexpr std::string_view kAlgNone =
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJqb2ItMSIsImV4cCI6MTcwMDAwMDEwMH0.";
// payload {"sub":"job-1"}
constexpr std::string_view kNoExp =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqb2ItMSJ9.iRl9ZyzdbsGiGT_v3vqUPelhjz9C2wvxT-7r1WZHviA";
// payload bytes "{not json", correctly signed
constexpr std::string_view kBadPayload =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e25vdCBqc29u.f5uxW7NZ_RAXGEWR4ysOYIkGU4cBYV7LXhZVZaSRAtk";
// payload {"sub":"job-1","exp":1700000100,"nbf":1700000050}: valid from 50 s after kNow
constexpr std::string_view kNotYetValid =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqb2ItMSIsImV4cCI6MTcwMDAwMDEwMCwibmJmIjoxNzAwMDAwMDUwfQ."
    "ZPLdIQE-eYVRCcNRvsZCO2e3qmSoP2Mlv7mm8VIXRww";
// payload {"sub":"job-1","exp":1700000100,"nbf":"soon"}
constexpr std::string_view kTextNbf =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqb2ItMSIsImV4cCI6MTcwMDAwMDEwMCwibmJmIjoic29vbiJ9."
    "_rSh8Pg2MPFHQLiYj1OgVOMaHxpMWoVPezA9YbESUvM";
// header bytes "{not json"
constexpr std::string_view kBadHeader = "e25vdCBqc29u.eyJzdWIiOiJqb2ItMSIsImV4cCI6MTcwMDAwMDEwMH0.AAAA";

std::string refusal(std::string_view token, std::string_view process_id = "job-1", Millis now = kNow) {
  const auto refused = token_verifier(std::string(kSecret)).refusal(process_id, token, now);
  return refused ? refused->message : "accepted";
}

// The machine-readable half of a refusal: what a client decides on (only `expired` is worth a
// fresh token).
std::string reason(std::string_view token, std::string_view process_id = "job-1", Millis now = kNow) {
  const auto refused = token_verifier(std::string(kSecret)).refusal(process_id, token, now);
  return refused ? std::string(to_string(refused->reason)) : "accepted";
}

bool mentions(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

TEST(TokenVerifier, AcceptsAValidTokenForItsProcessUntilExp) {
  EXPECT_EQ(refusal(kGood), "accepted");
  EXPECT_EQ(refusal(kGood, "job-1", 1'700'000'099'999), "accepted");
  EXPECT_TRUE(mentions(refusal(kGood, "job-1", 1'700'000'100'000), "expired"));
}

TEST(TokenVerifier, SaysWhichCheckFailed) {
  EXPECT_TRUE(mentions(refusal(kExpired), "expired"));
  EXPECT_TRUE(mentions(refusal(kOtherProcess), "another process"));
  EXPECT_TRUE(mentions(refusal(kGood, "job-2"), "another process"));
  EXPECT_TRUE(mentions(refusal(kOtherSecret), "signature does not match"));
  EXPECT_TRUE(mentions(refusal(kNoExp), "exp"));
  EXPECT_TRUE(mentions(refusal(kBadPayload), "payload"));
  EXPECT_TRUE(mentions(refusal(kBadHeader), "header"));
  EXPECT_TRUE(mentions(refusal(""), "required"));
  EXPECT_TRUE(mentions(refusal("abc.def"), "not a JWT"));
  EXPECT_TRUE(mentions(refusal(std::string(kGood) + ".x"), "not a JWT"));
}

TEST(TokenVerifier, EachRefusalHasItsReason) {
  EXPECT_EQ(reason(""), "missing");
  EXPECT_EQ(reason(kExpired), "expired");
  EXPECT_EQ(reason(kNotYetValid), "expired");
  EXPECT_EQ(reason(kOtherProcess), "wrong_process");
  EXPECT_EQ(reason(kGood, "job-2"), "wrong_process");
  for (const auto token : {kOtherSecret, kHs512, kAlgNone, kNoExp, kBadPayload, kBadHeader, kTextNbf,
                           std::string_view("abc.def")}) {
    EXPECT_EQ(reason(token), "bad_signature") << token;
  }
}

TEST(TokenVerifier, RefusesEveryAlgorithmButHs256) {
  EXPECT_TRUE(mentions(refusal(kAlgNone), "alg must be HS256")) << refusal(kAlgNone);
  EXPECT_TRUE(mentions(refusal(kHs512), "alg must be HS256")) << refusal(kHs512);
}

TEST(TokenVerifier, RefusesATokenBeforeItsNbf) {
  EXPECT_TRUE(mentions(refusal(kNotYetValid), "not valid yet")) << refusal(kNotYetValid);
  EXPECT_EQ(refusal(kNotYetValid, "job-1", 1'700'000'050'000), "accepted");
  EXPECT_TRUE(mentions(refusal(kTextNbf), "nbf")) << refusal(kTextNbf);
}

// The refusal used to quote `alg` with a recursive dump, one stack frame per nesting level.
TEST(TokenVerifier, ADeeplyNestedAlgIsRefusedWithoutRecursing) {
  constexpr std::size_t kDepth = 100'000;  // a 267 KB token; dump() overflowed an 8 MiB stack at -O2
  const std::string header = "{\"alg\":" + std::string(kDepth, '[') + std::string(kDepth, ']') + "}";
  const std::string token = base64url(header) + ".e30.AAAA";
  const std::string why = refusal(token);
  EXPECT_TRUE(mentions(why, "alg must be HS256, got a JSON array")) << why.substr(0, 200);
  EXPECT_LT(why.size(), 100u);
  const std::string long_alg = base64url("{\"alg\":\"" + std::string(10'000, 'x') + "\"}") + ".e30.AAAA";
  EXPECT_LT(refusal(long_alg).size(), 100u);
}

TEST(TokenVerifier, ATamperedPayloadBreaksTheSignature) {
  // The payload of kOtherProcess under kGood's signature: sub changed to job-2.
  std::string forged(kOtherProcess.substr(0, kOtherProcess.rfind('.')));
  forged += kGood.substr(kGood.rfind('.'));
  EXPECT_TRUE(mentions(refusal(forged, "job-2"), "signature does not match"));
  // A signature with one more base64url character is refused, not truncated.
  EXPECT_TRUE(mentions(refusal(std::string(kGood) + "A"), "signature"));
}

// A rotation: the secret being retired still signs good tokens, a third one does not.
TEST(TokenVerifier, APreviousSecretSignsValidTokensToo) {
  const token_verifier rotating("another-secret", std::string(kSecret));
  EXPECT_FALSE(rotating.refusal("job-1", kGood, kNow).has_value());
  EXPECT_FALSE(rotating.refusal("job-1", kOtherSecret, kNow).has_value());
  const auto expired = rotating.refusal("job-1", kExpired, kNow);
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->reason, RefusalReason::expired);
  const token_verifier neither("a-third-secret", "a-fourth-secret");
  const auto unsigned_token = neither.refusal("job-1", kGood, kNow);
  ASSERT_TRUE(unsigned_token.has_value());
  EXPECT_EQ(unsigned_token->reason, RefusalReason::bad_signature);
}

TEST(Base64Url, DecodesWithoutPaddingAndRefusesOtherSpellings) {
  EXPECT_EQ(base64url_decode("aGk").value_or("?"), "hi");
  EXPECT_EQ(base64url_decode("-_8").value_or("?"), "\xfb\xff");
  EXPECT_EQ(base64url_decode("").value_or("?"), "");
  EXPECT_FALSE(base64url_decode("aGk=").has_value());
  EXPECT_FALSE(base64url_decode("+/8").has_value());
  EXPECT_FALSE(base64url_decode("a").has_value());
  EXPECT_FALSE(base64url_decode("aGl").has_value());  // non-zero trailing bits
}

TEST(Secrets, CompareWholeValues) {
  EXPECT_TRUE(same_secret("key-1", "key-1"));
  EXPECT_FALSE(same_secret("key-1", "key-2"));
  EXPECT_FALSE(same_secret("key-1", "key-1 "));
  EXPECT_FALSE(same_secret("key-1", "key-"));
  EXPECT_FALSE(same_secret("key-1", ""));
}

TEST(Secrets, BearerCredentials) {
  EXPECT_EQ(bearer_credentials("Bearer abc").value_or("?"), "abc");
  EXPECT_EQ(bearer_credentials("bearer  abc ").value_or("?"), "abc");
  EXPECT_FALSE(bearer_credentials("Basic abc").has_value());
  EXPECT_FALSE(bearer_credentials("Bearer ").has_value());
  EXPECT_FALSE(bearer_credentials("Bearerabc").has_value());
  EXPECT_FALSE(bearer_credentials("").has_value());
}

TEST(OriginList, ParsesSchemeHostPortEntries) {
  const auto list = parse_origin_list("https://a.example, http://b.example:8080");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(*list, (std::vector<std::string>{"https://a.example", "http://b.example:8080"}));
  EXPECT_FALSE(parse_origin_list("a.example").has_value());
  EXPECT_FALSE(parse_origin_list("https://a.example/path").has_value());
  EXPECT_FALSE(parse_origin_list("").has_value());
}

request make_request(http::verb method, std::string target, std::map<std::string, std::string> headers = {}) {
  request req{method, target, 11};
  for (const auto& [name, value] : headers) req.set(name, value);
  return req;
}

request upgrade(std::string target, std::map<std::string, std::string> headers = {}) {
  headers["Connection"] = "Upgrade";
  headers["Upgrade"] = "websocket";
  return make_request(http::verb::get, std::move(target), std::move(headers));
}

// nullopt: allowed; else {status, error code}.
std::optional<std::pair<unsigned, std::string>> decide(const server_config& config, const request& req,
                                                       Millis now = kNow) {
  auto res = check_access(config, req, now);
  if (!res) return std::nullopt;
  const Json body = Json::parse(res->body());
  return std::make_pair(res->result_int(), body["error"]["code"].get<std::string>());
}

const std::pair<unsigned, std::string> kUnauthorized{401, "unauthorized"};
const std::pair<unsigned, std::string> kForbidden{403, "unauthorized"};

TEST(CheckAccess, NothingConfiguredAllowsEverything) {
  const server_config config;
  EXPECT_EQ(decide(config, make_request(http::verb::post, "/api/processes")), std::nullopt);
  EXPECT_EQ(decide(config, upgrade("/ws/publish", {{"Origin", "https://evil.example"}})), std::nullopt);
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/sse/progress/job-1")), std::nullopt);
}

TEST(CheckAccess, ProducersNeedTheApiKey) {
  server_config config;
  config.api_key = "k-123";
  for (const auto& target : {"/api/processes", "/api/processes/job-1/progress", "/api/uploads"}) {
    EXPECT_EQ(decide(config, make_request(http::verb::post, target)), kUnauthorized) << target;
    EXPECT_EQ(decide(config, make_request(http::verb::post, target, {{"Authorization", "Bearer nope"}})),
              kUnauthorized)
        << target;
    EXPECT_EQ(decide(config, make_request(http::verb::post, target, {{"Authorization", "Bearer k-123"}})),
              std::nullopt)
        << target;
  }
  EXPECT_EQ(decide(config, upgrade("/ws/publish")), kUnauthorized);
  EXPECT_EQ(decide(config, upgrade("/ws/publish?api_key=nope")), kUnauthorized);
  EXPECT_EQ(decide(config, upgrade("/ws/publish?api_key=k-123")), std::nullopt);
  EXPECT_EQ(decide(config, upgrade("/ws/publish", {{"Authorization", "Bearer k-123"}})), std::nullopt);
  // The query form is for the WebSocket handshake only.
  EXPECT_EQ(decide(config, make_request(http::verb::post, "/api/processes?api_key=k-123")), kUnauthorized);
  // Reading is not producing.
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/api/processes/job-1")), std::nullopt);
  EXPECT_EQ(decide(config, upgrade("/ws/progress/job-1")), std::nullopt);
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/healthz")), std::nullopt);
}

TEST(CheckAccess, OpenUploadsLetsThePageUploadWithoutTheKey) {
  server_config config;
  config.api_key = "k-123";
  config.open_uploads = true;
  EXPECT_EQ(decide(config, make_request(http::verb::post, "/api/uploads")), std::nullopt);
  EXPECT_EQ(decide(config, make_request(http::verb::post, "/api/processes")), kUnauthorized);
}

TEST(CheckAccess, SseAndProcessReadsNeedATokenWhenASecretIsSet) {
  server_config config;
  config.token_secret = std::string(kSecret);
  const std::string good(kGood);
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/sse/progress/job-1")), kUnauthorized);
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/sse/progress/job-1?token=" + good)), std::nullopt);
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/sse/progress/job-2?token=" + good)),
            kUnauthorized);
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/api/processes/job-1")), kUnauthorized);
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/api/processes/job-1",
                                        {{"Authorization", "Bearer " + good}})),
            std::nullopt);
  EXPECT_EQ(
      decide(config,
             make_request(http::verb::get, "/api/processes/job-1", {{"Authorization", "Bearer " + good}}),
             1'700'000'200'000),
      kUnauthorized);
  // The producer's key reads any process.
  config.api_key = "k-123";
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/api/processes/job-7",
                                        {{"Authorization", "Bearer k-123"}})),
            std::nullopt);
  // WebSocket subscriptions are checked by the hub (error frame + 1008), not at the handshake.
  EXPECT_EQ(decide(config, upgrade("/ws/progress/job-1")), std::nullopt);
}

TEST(CheckAccess, RefusalsNameTheProcessAndTheReason) {
  server_config config;
  config.token_secret = std::string(kSecret);
  auto res = check_access(
      config, make_request(http::verb::get, "/sse/progress/job-1?token=" + std::string(kExpired)), kNow);
  ASSERT_TRUE(res.has_value());
  const Json body = Json::parse(res->body());
  const std::string message = body["error"]["message"].get<std::string>();
  EXPECT_TRUE(mentions(message, "job-1")) << res->body();
  EXPECT_TRUE(mentions(message, "expired")) << res->body();
}

TEST(CheckAccess, OriginAllowListGuardsBrowserStreamsOnly) {
  server_config config;
  config.allowed_origins = {"https://a.example", "http://localhost:3000"};
  EXPECT_EQ(decide(config, upgrade("/ws/progress/job-1", {{"Origin", "https://a.example"}})), std::nullopt);
  EXPECT_EQ(decide(config, upgrade("/ws/progress/job-1", {{"Origin", "http://localhost:3000"}})),
            std::nullopt);
  EXPECT_EQ(decide(config, upgrade("/ws/progress/job-1", {{"Origin", "https://evil.example"}})), kForbidden);
  EXPECT_EQ(decide(config, upgrade("/ws/progress/job-1", {{"Origin", "https://a.example:443"}})), kForbidden);
  EXPECT_EQ(decide(config, upgrade("/ws/progress/job-1", {{"Origin", "http://a.example"}})), kForbidden);
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/sse/progress/job-1",
                                        {{"Origin", "https://evil.example"}})),
            kForbidden);
  EXPECT_EQ(decide(config, upgrade("/ws/progress/job-1")), std::nullopt);  // no Origin: not a browser
  EXPECT_EQ(decide(config, make_request(http::verb::get, "/healthz", {{"Origin", "https://evil.example"}})),
            std::nullopt);
}

std::optional<std::string> no_env(const char*) { return std::nullopt; }

TEST(AccessFlags, SecretsComeFromFilesOrTheEnvironment) {
  const auto dir = std::filesystem::temp_directory_path() / ("access-flags-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "key") << "file-key\n";
  std::ofstream(dir / "secret") << "file-secret\n";
  auto parsed = parse_config(
      {"--api-key-file", (dir / "key").string(), "--token-secret-file", (dir / "secret").string()}, no_env);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(parsed.config.has_value()) << parsed.error;
  EXPECT_EQ(parsed.config->api_key, "file-key");
  EXPECT_EQ(parsed.config->token_secret, "file-secret");

  const std::map<std::string, std::string> env = {{"PROGRESS_API_KEY", "env-key"},
                                                  {"PROGRESS_TOKEN_SECRET", "env-secret"},
                                                  {"PROGRESS_ALLOWED_ORIGINS", "https://a.example"},
                                                  {"PROGRESS_MAX_FRAMES_PER_S", "7"}};
  parsed = parse_config({}, [&env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
  ASSERT_TRUE(parsed.config.has_value()) << parsed.error;
  EXPECT_EQ(parsed.config->api_key, "env-key");
  EXPECT_EQ(parsed.config->token_secret, "env-secret");
  EXPECT_EQ(parsed.config->allowed_origins, std::vector<std::string>{"https://a.example"});
  EXPECT_EQ(parsed.config->hub.max_frames_per_s, 7u);
}

TEST(AccessFlags, APreviousTokenSecretNeedsACurrentOneAndMayBeAbsent) {
  auto parsed = parse_config({"--token-secret-previous-file", "/nonexistent/previous"}, no_env);
  EXPECT_FALSE(parsed.config.has_value());
  EXPECT_NE(parsed.error.find("--token-secret-previous-file"), std::string::npos) << parsed.error;

  const auto dir = std::filesystem::temp_directory_path() / ("previous-flags-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "secret") << "current\n";
  parsed = parse_config({"--token-secret-file", (dir / "secret").string(), "--token-secret-previous-file",
                         (dir / "previous").string()},
                        no_env);
  ASSERT_TRUE(parsed.config.has_value()) << parsed.error;
  EXPECT_EQ(parsed.config->token_secret_previous, "");
  std::ofstream(dir / "previous") << "retired\n";
  parsed = parse_config({"--token-secret-file", (dir / "secret").string(), "--token-secret-previous-file",
                         (dir / "previous").string()},
                        no_env);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(parsed.config.has_value()) << parsed.error;
  EXPECT_EQ(parsed.config->token_secret_previous, "retired");
}

TEST(LimitFlags, EveryLimitIsAFlag) {
  auto parsed = parse_config({"--max-processes", "10", "--max-subscriptions", "20",
                              "--max-subscriptions-per-connection", "3", "--max-body-bytes", "1000",
                              "--max-header-bytes", "2048", "--header-timeout-ms", "500", "--body-timeout-ms",
                              "700", "--max-publish-frames-per-s", "9", "--frame-burst", "4"},
                             no_env);
  ASSERT_TRUE(parsed.config.has_value()) << parsed.error;
  const server_config& c = *parsed.config;
  EXPECT_EQ(c.hub.max_processes, 10u);
  EXPECT_EQ(c.hub.max_subscriptions, 20u);
  EXPECT_EQ(c.hub.max_subscriptions_per_connection, 3u);
  EXPECT_EQ(c.max_body_bytes, 1000u);
  EXPECT_EQ(c.max_header_bytes, 2048u);
  EXPECT_EQ(c.header_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(c.body_timeout, std::chrono::milliseconds(700));
  EXPECT_EQ(c.hub.max_publish_frames_per_s, 9u);
  EXPECT_EQ(c.hub.frame_burst, 4u);
  EXPECT_FALSE(parse_config({"--header-timeout-ms", "0"}, no_env).error.empty());
}

// --threads: 1 (the default) to 64, from the flag or PROGRESS_THREADS; 0 threads cannot run a hub.
TEST(LimitFlags, ThreadsAreBoundedAndComeFromTheEnvironmentToo) {
  EXPECT_EQ(parse_config({}, no_env).config->threads, 1u);
  auto parsed = parse_config({"--threads", "4"}, no_env);
  ASSERT_TRUE(parsed.config.has_value()) << parsed.error;
  EXPECT_EQ(parsed.config->threads, 4u);
  parsed = parse_config({}, [](const char* name) -> std::optional<std::string> {
    return std::string(name) == "PROGRESS_THREADS" ? std::optional<std::string>("2") : std::nullopt;
  });
  ASSERT_TRUE(parsed.config.has_value()) << parsed.error;
  EXPECT_EQ(parsed.config->threads, 2u);
  EXPECT_FALSE(parse_config({"--threads", "0"}, no_env).error.empty());
  EXPECT_FALSE(parse_config({"--threads", "65"}, no_env).error.empty());
  EXPECT_FALSE(parse_config({"--threads", "two"}, no_env).error.empty());
}

TEST(AccessFlags, BadValuesAreRefused) {
  EXPECT_FALSE(parse_config({"--api-key-file", "/nonexistent/key"}, no_env).error.empty());
  EXPECT_FALSE(parse_config({"--allowed-origins", "a.example"}, no_env).error.empty());
  EXPECT_FALSE(parse_config({"--open-uploads", "maybe"}, no_env).error.empty());
  EXPECT_FALSE(parse_config({"--frame-burst", "0"}, no_env).error.empty());
  // A secret is never a flag value on the command line (ps would show it).
  EXPECT_FALSE(parse_config({"--api-key", "k"}, no_env).error.empty());
  EXPECT_FALSE(parse_config({"PROGRESS_API_KEY", "k"}, no_env).error.empty());
}

TEST(AccessFlags, DefaultsAndHelp) {
  const auto parsed = parse_config({}, no_env);
  ASSERT_TRUE(parsed.config.has_value());
  EXPECT_TRUE(parsed.config->api_key.empty());
  EXPECT_EQ(parsed.config->hub.max_frames_per_s, 50u);
  EXPECT_EQ(parsed.config->hub.max_publish_frames_per_s, 0u);
  EXPECT_EQ(parsed.config->max_connections_per_address, 256u);
  const std::string help = usage_text();
  for (const char* name :
       {"--api-key-file", "PROGRESS_API_KEY ", "--token-secret-file", "PROGRESS_TOKEN_SECRET ",
        "--allowed-origins", "--open-uploads", "--max-frames-per-s", "--frame-burst",
        "--max-publish-frames-per-s", "--max-connections-per-address", "--limit-loopback"}) {
    EXPECT_TRUE(mentions(help, name)) << name;
  }
}

}  // namespace
}  // namespace progress::server
