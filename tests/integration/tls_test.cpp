// TLS (--tls-cert/--tls-key) on the real binary: https:// routes, SSE and wss:// on both WebSocket
// endpoints through a client that trusts only the certificate made for the test, plus the refusals:
// plain HTTP on the TLS port, a key that does not match its certificate, one flag without the other,
// TLS 1.2 suites without forward secrecy or AEAD.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <signal.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/client_frames.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using error_code = beast::error_code;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

struct key_free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct cert_free {
  void operator()(X509* cert) const { X509_free(cert); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_free>;

key_ptr make_key() {
  key_ptr key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("EC key generation failed");
  return key;
}

template <class Write>
void write_pem(const std::filesystem::path& path, Write write) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "w"), &std::fclose);
  if (!file || write(file.get()) != 1) throw std::runtime_error("cannot write " + path.string());
}

// A self-signed certificate for localhost, valid for a day.
void write_cert(const std::filesystem::path& path, EVP_PKEY* key) {
  std::unique_ptr<X509, cert_free> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) throw std::runtime_error("cannot sign the certificate");
  write_pem(path, [&](FILE* f) { return PEM_write_X509(f, cert.get()); });
}

void write_key(const std::filesystem::path& path, EVP_PKEY* key) {
  write_pem(path, [&](FILE* f) { return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr); });
}

// Starts `op(handler)` and waits for its handler; returns the error it reported.
template <class Op>
error_code step(net::io_context& ioc, const char* what, Op op) {
  bool done = false;
  error_code result;
  op([&](error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  run_until_done(ioc, done, kGuard, what);
  return result;
}

// A TLS connection that trusts only the test's certificate.
class tls_client {
 public:
  tls_client(unsigned short port, ssl::context& trust) : stream_(ioc_, trust) {
    expect_ok(step(ioc_, "connect",
                   [&](auto h) { beast::get_lowest_layer(stream_).async_connect(loopback(port), h); }),
              "connect");
    expect_ok(step(ioc_, "tls handshake", [&](auto h) { stream_.async_handshake(ssl::stream_base::client, h); }),
              "tls handshake");
  }

  tls_stream& stream() { return stream_; }
  net::io_context& ioc() { return ioc_; }

  static void expect_ok(error_code ec, const char* what) {
    if (ec) throw std::runtime_error(std::string(what) + ": " + ec.message());
  }

 private:
  net::io_context ioc_;
  tls_stream stream_;
};

struct reply {
  unsigned status = 0;
  std::string body;
};

reply https_get(unsigned short port, ssl::context& trust, const std::string& target) {
  tls_client client(port, trust);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  tls_client::expect_ok(step(client.ioc(), "https write",
                             [&](auto h) { http::async_write(client.stream(), req, h); }),
                        "https write");
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  tls_client::expect_ok(step(client.ioc(), "https read",
                             [&](auto h) { http::async_read(client.stream(), buffer, res, h); }),
                        "https read");
  return {res.result_int(), res.body()};
}

void send_all(tls_client& client, const std::string& bytes) {
  tls_client::expect_ok(
      step(client.ioc(), "tls write", [&](auto h) { net::async_write(client.stream(), net::buffer(bytes), h); }),
      "tls write");
}

// Reads from `client` until `until` has arrived; returns everything read.
std::string read_until(tls_client& client, const std::string& until) {
  std::string text;
  std::array<char, 4096> chunk{};
  while (text.find(until) == std::string::npos) {
    std::size_t n = 0;
    const error_code ec = step(client.ioc(), "tls read", [&](auto h) {
      client.stream().async_read_some(net::buffer(chunk), [&n, h](error_code e, std::size_t got) mutable {
        n = got;
        h(e);
      });
    });
    if (ec) throw std::runtime_error("tls read: " + ec.message() + " after: " + text);
    text.append(chunk.data(), n);
  }
  return text;
}

class wss_client {
 public:
  wss_client(unsigned short port, ssl::context& trust, const std::string& target) : ws_(ioc_, trust) {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tls_client::expect_ok(step(ioc_, "connect", [&](auto h) { tcp_layer.async_connect(loopback(port), h); }),
                          "connect");
    tls_client::expect_ok(step(ioc_, "tls handshake",
                               [&](auto h) { ws_.next_layer().async_handshake(ssl::stream_base::client, h); }),
                          "tls handshake");
    tls_client::expect_ok(step(ioc_, "ws handshake", [&](auto h) { ws_.async_handshake("localhost", target, h); }),
                          "ws handshake");
    ws_.text(true);
  }

  void send(const Json& frame) {
    const std::string text = frame.dump();
    tls_client::expect_ok(step(ioc_, "ws write", [&](auto h) { ws_.async_write(net::buffer(text), h); }),
                          "ws write");
  }

  Json read() {
    buffer_.clear();
    tls_client::expect_ok(step(ioc_, "ws read", [&](auto h) { ws_.async_read(buffer_, h); }), "ws read");
    return Json::parse(beast::buffers_to_string(buffer_.data()));
  }

  // The closing handshake, then the TLS one (close_notify both ways).
  error_code close() {
    return step(ioc_, "ws close", [&](auto h) { ws_.async_close(websocket::close_code::normal, h); });
  }

 private:
  net::io_context ioc_;
  websocket::stream<tls_stream> ws_;
  beast::flat_buffer buffer_;
};

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = std::make_unique<temp_dir>();
    const key_ptr key = make_key();
    write_cert(cert(), key.get());
    write_key(certs_->path() / "key.pem", key.get());
    const key_ptr other = make_key();
    write_key(certs_->path() / "other-key.pem", other.get());
    trust_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    trust_->load_verify_file(cert().string());
    trust_->set_verify_mode(ssl::verify_peer);
    server_ = std::make_unique<server_process>(
        std::vector<std::string>{"--tls-cert", cert().string(), "--tls-key", (certs_->path() / "key.pem").string()});
  }
  static void TearDownTestSuite() {
    server_.reset();
    trust_.reset();
    certs_.reset();
  }
  static std::filesystem::path cert() { return certs_->path() / "cert.pem"; }
  static unsigned short port() { return server_->port(); }

  // progress-hub with `flags`, stderr folded into the captured output.
  static exit_status run_hub(const std::string& flags) {
    const std::string command = std::string(PROGRESS_HUB_BINARY) + " --listen 127.0.0.1:0 " + flags + " 2>&1";
    return run_program("/bin/sh", {"-c", command});
  }

  static std::unique_ptr<temp_dir> certs_;
  static std::unique_ptr<ssl::context> trust_;
  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<temp_dir> Tls::certs_;
std::unique_ptr<ssl::context> Tls::trust_;
std::unique_ptr<server_process> Tls::server_;

TEST_F(Tls, HealthzAnswersOverHttps) {
  const reply res = https_get(port(), *trust_, "/healthz");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(Json::parse(res.body)["status"], "ok");
}

TEST_F(Tls, UnknownRouteGetsTheJsonErrorOverHttps) {
  const reply res = https_get(port(), *trust_, "/no/such/route");
  EXPECT_EQ(res.status, 404u);
  EXPECT_TRUE(Json::parse(res.body).contains("error")) << res.body;
}

TEST_F(Tls, WssPublisherAckedAndWssSubscriberGetsSnapshotThenEvents) {
  wss_client subscriber(port(), *trust_, "/ws/progress/tls-job-1");
  EXPECT_EQ(subscriber.read()["type"], "hello");
  EXPECT_EQ(subscriber.read()["type"], "pending");

  wss_client producer(port(), *trust_, "/ws/publish");
  EXPECT_EQ(producer.read()["type"], "hello");
  producer.send(
      Json{{"type", "publish"}, {"id", "m1"}, {"process_id", "tls-job-1"}, {"stage", "a"}, {"percent", 10}});
  const Json ack = producer.read();
  EXPECT_EQ(ack["type"], "ack");
  EXPECT_EQ(ack["id"], "m1");
  EXPECT_EQ(ack["seq"], 1);
  producer.send(Json{{"type", "publish"}, {"id", "m2"}, {"process_id", "tls-job-1"}, {"state", "completed"}});
  EXPECT_EQ(producer.read()["seq"], 2);

  const Json snapshot = subscriber.read();
  EXPECT_EQ(snapshot["type"], "snapshot");
  EXPECT_EQ(snapshot["seq"], 1);
  EXPECT_EQ(snapshot["stage"], "a");
  const Json done = subscriber.read();
  EXPECT_EQ(done["type"], "progress");
  EXPECT_EQ(done["seq"], 2);
  EXPECT_EQ(done["state"], "completed");

  const error_code closed = producer.close();
  EXPECT_FALSE(closed) << closed.message();
}

// With --threads the plain WebSocket sessions write from send lanes; TLS sessions write from the
// event loop (the TLS stream is not thread-safe). Under ThreadSanitizer this is where a TLS write
// handed to a lane would show up.
TEST_F(Tls, WssFanOutWithSendLanesDeliversEveryEventInOrder) {
  server_process threaded({"--tls-cert", cert().string(), "--tls-key", (certs_->path() / "key.pem").string(),
                           "--threads", "2"});
  constexpr int kSubscribers = 3;
  constexpr int kEvents = 20;
  std::vector<std::unique_ptr<wss_client>> subscribers;
  for (int i = 0; i < kSubscribers; ++i) {
    subscribers.push_back(std::make_unique<wss_client>(threaded.port(), *trust_, "/ws/progress/tls-lanes"));
    EXPECT_EQ(subscribers.back()->read()["type"], "hello");
    EXPECT_EQ(subscribers.back()->read()["type"], "pending");
  }
  wss_client producer(threaded.port(), *trust_, "/ws/publish");
  EXPECT_EQ(producer.read()["type"], "hello");
  for (int i = 1; i <= kEvents; ++i) {
    producer.send(Json{{"type", "publish"}, {"process_id", "tls-lanes"}, {"percent", i}});
  }
  producer.send(Json{{"type", "publish"}, {"id", "last"}, {"process_id", "tls-lanes"}, {"state", "completed"}});
  EXPECT_EQ(producer.read()["seq"], kEvents + 1);

  for (auto& subscriber : subscribers) {
    const Json snapshot = subscriber->read();  // the first publish created the record
    EXPECT_EQ(snapshot["type"], "snapshot");
    EXPECT_EQ(snapshot["seq"], 1);
    for (int seq = 2; seq <= kEvents + 1; ++seq) {
      const Json event = subscriber->read();
      EXPECT_EQ(event["type"], "progress");
      EXPECT_EQ(event["seq"], seq);
    }
  }
}

// What the hub queued for a wss:// socket before its peer's close (here the ack of a publish sent in
// the same write as the close, while the 101 is still being written) goes out as whole frames ahead
// of the close echo.
TEST_F(Tls, WssAckQueuedBeforeThePeersCloseArrivesFramedBeforeTheEcho) {
  tls_client client(port(), *trust_);
  const std::string upgrade =
      "GET /ws/publish HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  const std::string publish =
      R"({"type":"publish","id":"early","process_id":"tls-early-close","stage":"a","percent":5})";
  send_all(client, upgrade + client_frame(0x81, publish) + client_frame(0x88, close_payload(1000)));

  std::string text = read_until(client, "\r\n\r\n");
  ASSERT_EQ(text.rfind("HTTP/1.1 101", 0), 0u) << text;
  // Server frames (unmasked) until the close: opcode and payload of each.
  std::vector<std::pair<int, std::string>> frames;
  std::string rest = text.substr(text.find("\r\n\r\n") + 4);
  std::array<char, 4096> chunk{};
  while (frames.empty() || frames.back().first != 0x88) {
    std::size_t header = 2;
    std::size_t length = rest.size() >= 2 ? static_cast<unsigned char>(rest[1]) & 0x7F : 0;
    if (length == 126) header = 4;
    if (length == 127) header = 10;
    if (rest.size() >= header && header == 4) {
      length = (static_cast<std::size_t>(static_cast<unsigned char>(rest[2])) << 8) | static_cast<unsigned char>(rest[3]);
    }
    ASSERT_LT(length, 1u << 16) << "not a frame the hub sends: " << rest;
    if (rest.size() >= header + length && rest.size() >= 2) {
      frames.emplace_back(static_cast<unsigned char>(rest[0]), rest.substr(header, length));
      rest.erase(0, header + length);
      continue;
    }
    std::size_t n = 0;
    const error_code ec = step(client.ioc(), "tls read", [&](auto h) {
      client.stream().async_read_some(net::buffer(chunk), [&n, h](error_code e, std::size_t got) mutable {
        n = got;
        h(e);
      });
    });
    ASSERT_FALSE(ec) << ec.message() << " after " << frames.size() << " frames, then: " << rest;
    rest.append(chunk.data(), n);
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].first, 0x81);
  EXPECT_EQ(Json::parse(frames[0].second)["type"], "hello");
  EXPECT_EQ(frames[1].first, 0x81);
  EXPECT_EQ(Json::parse(frames[1].second)["type"], "ack");
  EXPECT_NE(frames[1].second.find("\"early\""), std::string::npos) << frames[1].second;
  EXPECT_EQ(frames[2].first, 0x88);
  EXPECT_EQ(frames[2].second, close_payload(1000));
}

TEST_F(Tls, SseStreamsOverHttps) {
  const reply published = [] {
    tls_client client(port(), *trust_);
    const std::string body = R"({"stage":"s","percent":40})";
    const std::string request = "POST /api/processes/tls-sse-1/progress HTTP/1.1\r\nHost: localhost\r\n"
                                "Content-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    send_all(client, request);
    const std::string text = read_until(client, "\r\n\r\n");
    return reply{text.rfind("HTTP/1.1 200", 0) == 0 ? 200u : 0u, text};
  }();
  ASSERT_EQ(published.status, 200u) << published.body;

  tls_client client(port(), *trust_);
  const std::string request = "GET /sse/progress/tls-sse-1 HTTP/1.1\r\nHost: localhost\r\n\r\n";
  send_all(client, request);
  const std::string text = read_until(client, "\"type\":\"snapshot\"");
  EXPECT_EQ(text.rfind("HTTP/1.1 200 OK", 0), 0u) << text;
  EXPECT_NE(text.find("text/event-stream"), std::string::npos) << text;
  EXPECT_NE(text.find("\"percent\":40"), std::string::npos) << text;
}

TEST_F(Tls, PlainHttpOnTheTlsPortIsClosedAndTheServerGoesOn) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(loopback(port()));
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
  net::write(socket, net::buffer(request));
  // The server fails the handshake and closes: the read ends (EOF or reset) instead of hanging.
  std::array<char, 512> chunk{};
  std::string answer;
  for (;;) {
    std::size_t n = 0;
    const error_code ec = step(ioc, "read from the TLS port", [&](auto h) {
      socket.async_read_some(net::buffer(chunk), [&n, h](error_code e, std::size_t got) mutable {
        n = got;
        h(e);
      });
    });
    answer.append(chunk.data(), n);
    if (ec) break;
  }
  EXPECT_EQ(answer.find("HTTP/1.1 200"), std::string::npos) << answer;

  const reply res = https_get(port(), *trust_, "/healthz");
  EXPECT_EQ(res.status, 200u);
}

TEST_F(Tls, KeyThatDoesNotMatchTheCertificateExitsWith2) {
  const auto result =
      run_hub("--tls-cert " + cert().string() + " --tls-key " + (certs_->path() / "other-key.pem").string());
  ASSERT_TRUE(result.exited);
  EXPECT_EQ(result.code, 2);
  // OpenSSL's reason, on the flag that names the key.
  EXPECT_NE(result.output.find("--tls-key"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("mismatch"), std::string::npos) << result.output;
}

TEST_F(Tls, UnreadableCertificateExitsWith2) {
  const auto result = run_hub("--tls-cert " + (certs_->path() / "missing.pem").string() + " --tls-key " +
                              (certs_->path() / "key.pem").string());
  ASSERT_TRUE(result.exited);
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.output.find("cannot load --tls-cert"), std::string::npos) << result.output;
}

TEST_F(Tls, CertificateWithoutKeyExitsWith2) {
  const auto result = run_hub("--tls-cert " + cert().string());
  ASSERT_TRUE(result.exited);
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.output.find("go together"), std::string::npos) << result.output;
}

// A TLS 1.2 handshake offering only `ciphers` (OpenSSL names); its error, none when it completed.
error_code tls12_handshake(unsigned short port, const std::filesystem::path& trusted_cert, const char* ciphers) {
  ssl::context trust(ssl::context::tls_client);
  trust.load_verify_file(trusted_cert.string());
  trust.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_max_proto_version(trust.native_handle(), TLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(trust.native_handle(), ciphers) != 1) {
    throw std::runtime_error(std::string("this OpenSSL lacks ") + ciphers);
  }
  net::io_context ioc;
  tls_stream stream(ioc, trust);
  tls_client::expect_ok(
      step(ioc, "connect", [&](auto h) { beast::get_lowest_layer(stream).async_connect(loopback(port), h); }),
      "connect");
  return step(ioc, "tls handshake", [&](auto h) { stream.async_handshake(ssl::stream_base::client, h); });
}

// TLS 1.2 takes only ECDHE key exchange (forward secrecy) with AEAD ciphers. An RSA certificate, so
// that the static-RSA and CBC suites are ones the server could otherwise pick.
TEST_F(Tls, Tls12RefusesSuitesWithoutForwardSecrecyOrAead) {
  const key_ptr rsa(EVP_RSA_gen(2048));
  ASSERT_TRUE(rsa);
  const auto rsa_cert = certs_->path() / "rsa-cert.pem";
  write_cert(rsa_cert, rsa.get());
  write_key(certs_->path() / "rsa-key.pem", rsa.get());
  server_process rsa_server({"--tls-cert", rsa_cert.string(), "--tls-key", (certs_->path() / "rsa-key.pem").string()});

  EXPECT_FALSE(tls12_handshake(rsa_server.port(), rsa_cert, "ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_FALSE(tls12_handshake(rsa_server.port(), rsa_cert, "ECDHE-RSA-CHACHA20-POLY1305"));
  EXPECT_TRUE(tls12_handshake(rsa_server.port(), rsa_cert, "AES128-GCM-SHA256")) << "static RSA was accepted";
  EXPECT_TRUE(tls12_handshake(rsa_server.port(), rsa_cert, "AES256-SHA256")) << "static RSA CBC was accepted";
  EXPECT_TRUE(tls12_handshake(rsa_server.port(), rsa_cert, "DHE-RSA-AES128-GCM-SHA256")) << "DHE was accepted";
  EXPECT_TRUE(tls12_handshake(rsa_server.port(), rsa_cert, "ECDHE-RSA-AES128-SHA256")) << "ECDHE CBC was accepted";
  // The suite's own ECDSA server, and the refusal did not take the listener down.
  EXPECT_FALSE(tls12_handshake(port(), cert(), "ECDHE-ECDSA-AES256-GCM-SHA384"));
  EXPECT_TRUE(tls12_handshake(port(), cert(), "ECDHE-ECDSA-AES128-SHA"));
  EXPECT_FALSE(tls12_handshake(rsa_server.port(), rsa_cert, "ECDHE-RSA-AES256-GCM-SHA384"));
}


ssl::context trusting(const std::filesystem::path& cert) {
  ssl::context trust(ssl::context::tls_client);
  trust.load_verify_file(cert.string());
  trust.set_verify_mode(ssl::verify_peer);
  return trust;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t seen = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++seen;
  return seen;
}

// Sends SIGHUP and waits (a hang guard) until the hub logged one more `event`.
void reload(const server_process& hub, const std::string& event) {
  const std::size_t before = occurrences(hub.stderr_text(), " " + event);
  ASSERT_EQ(::kill(hub.pid(), SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + kGuard;
  while (occurrences(hub.stderr_text(), " " + event) == before) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no " << event << " in:\n" << hub.stderr_text();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// SIGHUP reads --tls-cert/--tls-key again: connections made after it get the new certificate, an open
// wss:// stream goes on, and a reload with a broken pair keeps the certificate served before.
TEST_F(Tls, SighupServesTheNewCertificateToNewConnectionsOnly) {
  temp_dir dir;
  const auto live_cert = dir.path() / "cert.pem";
  const auto live_key = dir.path() / "key.pem";
  const auto old_cert = dir.path() / "old-cert.pem";
  const auto new_cert = dir.path() / "new-cert.pem";
  const key_ptr old_key = make_key();
  const key_ptr new_key = make_key();
  write_cert(old_cert, old_key.get());
  write_cert(new_cert, new_key.get());
  std::filesystem::copy_file(old_cert, live_cert);
  write_key(live_key, old_key.get());
  // reload_done is logged at info (the test hubs log from warn by default).
  server_process hub({"--tls-cert", live_cert.string(), "--tls-key", live_key.string(), "--log-level", "info"}, 0,
                     true);
  constexpr const char* kSuite = "ECDHE-ECDSA-AES128-GCM-SHA256";
  ASSERT_FALSE(tls12_handshake(hub.port(), old_cert, kSuite));
  ASSERT_TRUE(tls12_handshake(hub.port(), new_cert, kSuite));
  ssl::context old_trust = trusting(old_cert);
  wss_client subscriber(hub.port(), old_trust, "/ws/progress/tls-swap");
  EXPECT_EQ(subscriber.read()["type"], "hello");
  EXPECT_EQ(subscriber.read()["type"], "pending");

  std::filesystem::copy_file(new_cert, live_cert, std::filesystem::copy_options::overwrite_existing);
  write_key(live_key, new_key.get());
  reload(hub, "reload_done");
  EXPECT_FALSE(tls12_handshake(hub.port(), new_cert, kSuite));
  EXPECT_TRUE(tls12_handshake(hub.port(), old_cert, kSuite));

  // A key that does not match the certificate: refused, the new pair stays.
  write_key(live_key, old_key.get());
  reload(hub, "reload_failed");
  EXPECT_FALSE(tls12_handshake(hub.port(), new_cert, kSuite));
  EXPECT_NE(hub.stderr_text().find("--tls-key " + live_key.string()), std::string::npos) << hub.stderr_text();

  // The stream opened before both reloads still gets what is published.
  ssl::context new_trust = trusting(new_cert);
  wss_client producer(hub.port(), new_trust, "/ws/publish");
  EXPECT_EQ(producer.read()["type"], "hello");
  producer.send(Json{{"type", "publish"}, {"id", "m1"}, {"process_id", "tls-swap"}, {"percent", 40}});
  EXPECT_EQ(producer.read()["type"], "ack");
  const Json snapshot = subscriber.read();
  EXPECT_EQ(snapshot["type"], "snapshot");
  EXPECT_EQ(snapshot["percent"], 40);
}

}  // namespace
}  // namespace progress::test
