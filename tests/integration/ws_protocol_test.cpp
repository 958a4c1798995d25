// RFC 6455 over a real socket against the running progress-hub, with hand-made frames a library
// client would never send: the handshake refusals, protocol violations and the close handshake.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/client_frames.hpp"
#include "support/engine_param.hpp"
#include "support/server_process.hpp"
#include "support/test_client.hpp"

namespace progress::test {
namespace {

constexpr std::uint8_t kFin = 0x80;
const std::string kRfcSampleKey = "dGhlIHNhbXBsZSBub25jZQ==";  // the RFC 6455 example key

struct server_frame {
  std::uint8_t opcode = 0;
  std::string payload;
  int close_code() const {
    return payload.size() < 2 ? 0 : (static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]);
  }
};

// A blocking socket with a receive timeout (a hang guard): throws rather than waiting forever.
class raw_socket {
 public:
  explicit raw_socket(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    timeval guard{static_cast<time_t>(kGuard.count()), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
  }
  ~raw_socket() { ::close(fd_); }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  void send(const std::string& bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      at += static_cast<std::size_t>(n);
    }
  }

  // Appends what arrives to the buffer; false on EOF. Throws on timeout.
  bool fill() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) throw std::runtime_error("receive timed out or failed");
    if (n == 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  // The HTTP response head (through the blank line); the rest stays buffered.
  std::string read_head() {
    for (;;) {
      if (const auto end = buffer_.find("\r\n\r\n"); end != std::string::npos) {
        std::string head = buffer_.substr(0, end + 4);
        buffer_.erase(0, end + 4);
        return head;
      }
      if (!fill()) throw std::runtime_error("closed before the response head");
    }
  }

  // Everything until the peer closes.
  std::string read_all() {
    while (fill()) {
    }
    return std::exchange(buffer_, {});
  }

  server_frame read_frame() {
    for (;;) {
      if (buffer_.size() >= 2) {
        const auto b1 = static_cast<std::uint8_t>(buffer_[1]);
        if ((b1 & 0x80) != 0) throw std::runtime_error("the server masked a frame");
        std::size_t head = 2;
        std::uint64_t length = b1 & 0x7F;
        if (length == 126) head = 4;
        if (length == 127) head = 10;
        if (buffer_.size() >= head) {
          if (head == 4) length = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(buffer_[2])) << 8) |
                                  static_cast<std::uint8_t>(buffer_[3]);
          if (head == 10) {
            length = 0;
            for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | static_cast<std::uint8_t>(buffer_[i]);
          }
          if (buffer_.size() >= head + length) {
            server_frame f{static_cast<std::uint8_t>(buffer_[0] & 0x0F), buffer_.substr(head, length)};
            EXPECT_EQ(static_cast<std::uint8_t>(buffer_[0]) & 0xF0, 0x80) << "a final frame without RSV bits";
            buffer_.erase(0, head + length);
            return f;
          }
        }
      }
      if (!fill()) throw std::runtime_error("closed while reading a frame");
    }
  }

  // Skips data frames up to the next close frame.
  server_frame read_close() {
    for (;;) {
      auto f = read_frame();
      if (f.opcode == 0x8) return f;
    }
  }

  // True when the server ends the TCP stream (after its close) with no further bytes.
  bool at_eof() { return buffer_.empty() && !fill(); }

 private:
  int fd_;
  std::string buffer_;
};

std::string upgrade_request(const std::string& target, const std::string& extra = {},
                            const std::string& version = "13", const std::string& key = kRfcSampleKey) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
         "Sec-WebSocket-Version: " + version + "\r\nSec-WebSocket-Key: " + key + "\r\n" + extra + "\r\n";
}

// Parameter: the write path. Through io_uring rounds or send lanes, the server's frames leave after
// the session handed them over, so pongs, close frames and batches queued meanwhile must keep their
// order and the close handshake.
class WsProtocol : public ::testing::TestWithParam<const char*> {
 protected:
  static void TearDownTestSuite() { servers_.clear(); }
  unsigned short port() const {
    auto& server = servers_[GetParam()];
    if (!server) {
      std::vector<std::string> args{"--max-frame-bytes", "1024"};
      for (auto& arg : write_path_args(GetParam())) args.push_back(std::move(arg));
      server = std::make_unique<server_process>(std::move(args));
    }
    return server->port();
  }

  // An upgraded socket on the echo endpoint (no hello: frames come back as sent).
  std::unique_ptr<raw_socket> echo() const {
    auto s = std::make_unique<raw_socket>(port());
    s->send(upgrade_request("/ws/test"));
    const auto head = s->read_head();
    EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
    return s;
  }

  static std::map<std::string, std::unique_ptr<server_process>> servers_;
};

std::map<std::string, std::unique_ptr<server_process>> WsProtocol::servers_;

INSTANTIATE_TEST_SUITE_P(WritePaths, WsProtocol, write_paths, write_path_label);

TEST_P(WsProtocol, AcceptKeyIsTheRfcExample) {
  raw_socket s(port());
  s.send(upgrade_request("/ws/test"));
  const auto head = s.read_head();
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("permessage-deflate"), std::string::npos) << head;
}

TEST_P(WsProtocol, WrongVersionIs426WithTheVersionWeSpeak) {
  raw_socket s(port());
  s.send(upgrade_request("/ws/test", {}, "8"));
  const auto reply = s.read_all();
  EXPECT_EQ(reply.rfind("HTTP/1.1 426", 0), 0u) << reply;
  EXPECT_NE(reply.find("Sec-WebSocket-Version: 13"), std::string::npos) << reply;
  EXPECT_NE(reply.find(R"("code":"bad_frame")"), std::string::npos) << reply;
}

TEST_P(WsProtocol, BadKeyIs400) {
  for (const std::string key : {"", "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBs!SBub25jZQ=="}) {
    raw_socket s(port());
    s.send(upgrade_request("/ws/test", {}, "13", key));
    const auto reply = s.read_all();
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << key << ": " << reply;
    EXPECT_NE(reply.find(R"("error":{)"), std::string::npos) << reply;
  }
}

TEST_P(WsProtocol, UpgradeThatIsNotGetIs400) {
  raw_socket s(port());
  std::string request = upgrade_request("/ws/test");
  request.replace(0, 3, "PUT");
  s.send(request);
  const auto reply = s.read_all();
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
}

TEST_P(WsProtocol, UpgradeWithoutConnectionUpgradeIs400) {
  raw_socket s(port());
  std::string request = upgrade_request("/ws/test");
  request.replace(request.find("keep-alive, Upgrade"), 19, "keep-alive");
  s.send(request);
  EXPECT_EQ(s.read_all().rfind("HTTP/1.1 400", 0), 0u);
}

TEST_P(WsProtocol, FragmentedTextIsReassembled) {
  auto s = echo();
  s->send(client_frame(0x1, "hel") + client_frame(0x0, "lo ") + client_frame(kFin | 0x0, "world"));
  const auto f = s->read_frame();
  EXPECT_EQ(f.opcode, 0x1);
  EXPECT_EQ(f.payload, "hello world");
}

TEST_P(WsProtocol, FramesSentWithTheUpgradeRequestAreRead) {
  raw_socket s(port());
  s.send(upgrade_request("/ws/test") + client_frame(kFin | 0x1, "early"));
  s.read_head();
  EXPECT_EQ(s.read_frame().payload, "early");
}

TEST_P(WsProtocol, PingIsAnsweredWithPongCarryingTheSamePayload) {
  auto s = echo();
  s->send(client_frame(0x1, "a") + client_frame(kFin | 0x9, "are you there?") + client_frame(kFin | 0x0, "b"));
  const auto pong = s->read_frame();
  EXPECT_EQ(pong.opcode, 0xA);
  EXPECT_EQ(pong.payload, "are you there?");
  const auto text = s->read_frame();
  EXPECT_EQ(text.payload, "ab");
}

TEST_P(WsProtocol, UnmaskedFrameIsClosedWith1002) {
  auto s = echo();
  s->send(client_frame(kFin | 0x1, "not masked", false));
  EXPECT_EQ(s->read_close().close_code(), 1002);
  EXPECT_TRUE(s->at_eof());
}

TEST_P(WsProtocol, ReservedBitsAndUnknownOpcodesAre1002) {
  for (const std::uint8_t first : {std::uint8_t{kFin | 0x40 | 0x1}, std::uint8_t{kFin | 0x3}}) {
    auto s = echo();
    s->send(client_frame(first, "x"));
    EXPECT_EQ(s->read_close().close_code(), 1002) << int{first};
  }
}

TEST_P(WsProtocol, InvalidUtf8Is1007) {
  auto s = echo();
  s->send(client_frame(kFin | 0x1, "caf\xC3"));
  EXPECT_EQ(s->read_close().close_code(), 1007);
  EXPECT_TRUE(s->at_eof());
}

TEST_P(WsProtocol, OversizeMessageGetsTooLargeThen1009) {
  raw_socket s(port());
  s.send(upgrade_request("/ws/progress"));
  s.read_head();
  s.send(client_frame(kFin | 0x1, std::string(1025, ' ')));
  std::string error;
  server_frame f;
  for (f = s.read_frame(); f.opcode == 0x1; f = s.read_frame()) {
    if (f.payload.find(R"("type":"error")") != std::string::npos) error = f.payload;
  }
  EXPECT_NE(error.find("too_large"), std::string::npos) << error;
  ASSERT_EQ(f.opcode, 0x8);
  EXPECT_EQ(f.close_code(), 1009);
  // The close handshake completes: our answer, then the server ends the stream.
  s.send(client_frame(kFin | 0x8, close_payload(1009)));
  EXPECT_TRUE(s.at_eof());
}

TEST_P(WsProtocol, ClientCloseIsEchoedThenTheServerEndsTheStream) {
  auto s = echo();
  s->send(client_frame(kFin | 0x8, close_payload(1000) + "done"));
  const auto f = s->read_frame();
  EXPECT_EQ(f.opcode, 0x8);
  EXPECT_EQ(f.close_code(), 1000);
  EXPECT_TRUE(s->at_eof());
}


// Issue 20: a close frame without a status code was answered, but the socket was never reaped
// while the client kept its side of the TCP connection open.
TEST(WsReaping, CloseWithoutAStatusCodeIsAnsweredAndTheSocketReaped) {
  server_process server;
  const std::size_t baseline = open_descriptors(server.pid());
  raw_socket s(server.port());
  s.send(upgrade_request("/ws/progress"));
  s.read_head();
  EXPECT_GT(open_descriptors(server.pid()), baseline);
  s.send(client_frame(kFin | 0x8, ""));
  const auto answer = s.read_close();
  EXPECT_TRUE(answer.payload.empty()) << "a close without a code is answered without one";
  EXPECT_TRUE(s.at_eof()) << "the server ends the TCP stream";
  // Our side stays open, as a careless client's would: the server must still let go of the socket.
  std::size_t now = open_descriptors(server.pid());
  for (int i = 0; i < 150 && now > baseline; ++i) {  // a hang guard of 15 s, not a speed check
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    now = open_descriptors(server.pid());
  }
  EXPECT_EQ(now, baseline) << "the server still holds the socket after the close handshake";
  EXPECT_EQ(parse_metrics(http_call(server.port(), "GET", "/metrics").body)["progress_connections"], 0);
}

TEST_P(WsProtocol, CloseWithAReservedCodeIs1002) {
  auto s = echo();
  s->send(client_frame(kFin | 0x8, close_payload(1005)));
  EXPECT_EQ(s->read_close().close_code(), 1002);
}

TEST_P(WsProtocol, ManyFramesQueuedTogetherAllArriveInOrder) {
  // The echo endpoint answers each of these (within its rate limit's burst); they go back in batches.
  auto s = echo();
  std::string burst;
  // Appended, not `"m" + to_string(i)`: GCC 12 -O3 warns -Wrestrict on that (a false positive).
  const auto text = [](int i) {
    std::string t = "m";
    t += std::to_string(i);
    return t;
  };
  for (int i = 0; i < 150; ++i) burst += client_frame(kFin | 0x1, text(i));
  s->send(burst);
  for (int i = 0; i < 150; ++i) ASSERT_EQ(s->read_frame().payload, text(i));
}

}  // namespace
}  // namespace progress::test
