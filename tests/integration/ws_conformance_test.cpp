// The RFC 6455 conformance table (tests/conformance/rfc6455.json, described in the README beside
// it): each case's bytes go to the real progress-hub over a raw loopback socket, and the frames it
// answers, its close and its end of stream are compared with the table.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "support/engine_param.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"

namespace progress::test {
namespace {

// A hang guard per case, not a timing assertion: a healthy server answers in milliseconds.
constexpr std::chrono::seconds kCaseGuard{5};
const std::string kMaskKey("\x37\xfa\x21\x3d", 4);

struct test_case {
  std::string id;
  Json data;
};

void PrintTo(const test_case& c, std::ostream* os) { *os << c.id; }

std::string from_hex(const std::string& hex) {
  std::string out;
  std::string digits;
  for (char c : hex) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) digits.push_back(c);
  }
  if (digits.size() % 2 != 0) throw std::runtime_error("odd hex: " + hex);
  for (std::size_t i = 0; i < digits.size(); i += 2) out.push_back(static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

std::string to_hex(const std::string& bytes, std::size_t limit = 64) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    const auto b = static_cast<std::uint8_t>(bytes[i]);
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
  if (bytes.size() > limit) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

// The payload a send or expect entry names: "text", "hex" or "repeat" {byte, count}, after an
// optional "close_code" (two bytes, network order).
std::string payload_of(const Json& spec) {
  std::string out;
  if (spec.contains("close_code")) {
    const auto code = spec["close_code"].get<unsigned>();
    out.push_back(static_cast<char>(code >> 8));
    out.push_back(static_cast<char>(code & 0xFF));
  }
  if (spec.contains("text")) out += spec["text"].get<std::string>();
  if (spec.contains("hex")) out += from_hex(spec["hex"].get<std::string>());
  if (spec.contains("repeat")) {
    const auto& r = spec["repeat"];
    const std::string byte = r["byte"].get<std::string>();
    out += std::string(r["count"].get<std::size_t>(), byte.size() == 1 ? byte[0] : from_hex(byte).at(0));
  }
  return out;
}

std::uint8_t opcode_of(const Json& value) {
  if (value.is_number()) return value.get<std::uint8_t>();
  static const std::map<std::string, std::uint8_t> names{{"continuation", 0x0}, {"text", 0x1}, {"binary", 0x2},
                                                         {"close", 0x8},        {"ping", 0x9}, {"pong", 0xA}};
  return names.at(value.get<std::string>());
}

// One client frame as the table describes it (masked with a fixed key unless "masked": false).
std::string client_bytes(const Json& spec) {
  if (spec.contains("raw")) return from_hex(spec["raw"].get<std::string>());
  const bool fin = spec.value("fin", true);
  const bool masked = spec.value("masked", true);
  const auto rsv = spec.value("rsv", 0u);
  const std::string payload = payload_of(spec);
  std::string out(1, static_cast<char>((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode_of(spec["opcode"]) & 0x0F)));
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    for (int i = 1; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  if (masked) out += kMaskKey;
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(masked ? static_cast<char>(payload[i] ^ kMaskKey[i % 4]) : payload[i]);
  }
  return out;
}

struct conformance_frame {
  std::uint8_t first = 0;
  std::string payload;
  std::uint8_t opcode() const { return first & 0x0F; }
  int close_code() const {
    return payload.size() < 2 ? -1 : (static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]);
  }
  std::string describe() const {
    std::string out = "opcode " + std::to_string(opcode());
    if (opcode() == 0x8) return out + " close " + std::to_string(close_code()) + " payload " + to_hex(payload);
    return out + " payload " + (payload.size() <= 64 ? "\"" + payload + "\"" : to_hex(payload));
  }
};

// Reads the server's side of one connection: the handshake head, then frames, then the end.
class reader {
 public:
  explicit reader(raw_connection& conn) : conn_(conn), deadline_(std::chrono::steady_clock::now() + kCaseGuard) {}

  std::string head() {
    for (;;) {
      if (const auto end = conn_.received().find("\r\n\r\n"); end != std::string::npos) {
        at_ = end + 4;
        return conn_.received().substr(0, at_);
      }
      if (!more()) throw std::runtime_error("no handshake response; received: " + conn_.received());
    }
  }

  // The next whole frame, or nothing when the stream ended first.
  std::optional<conformance_frame> frame() {
    for (;;) {
      const std::string& in = conn_.received();
      if (in.size() >= at_ + 2) {
        const auto second = static_cast<std::uint8_t>(in[at_ + 1]);
        if ((second & 0x80) != 0) throw std::runtime_error("the server masked a frame");
        std::uint64_t length = second & 0x7F;
        const std::size_t head = length == 126 ? 4 : length == 127 ? 10 : 2;
        if (in.size() >= at_ + head) {
          if (head > 2) {
            length = 0;
            for (std::size_t i = 2; i < head; ++i) length = (length << 8) | static_cast<std::uint8_t>(in[at_ + i]);
          }
          if (in.size() >= at_ + head + length) {
            conformance_frame f{static_cast<std::uint8_t>(in[at_]), in.substr(at_ + head, length)};
            at_ += head + length;
            return f;
          }
        }
      }
      if (!more()) return std::nullopt;
    }
  }

  // Waits for the end of the stream; what arrived before it is returned (should be nothing).
  std::string rest_until_eof() {
    while (more()) {
    }
    return conn_.received().substr(at_);
  }

  std::string unread() const { return conn_.received().substr(at_); }

 private:
  // Waits for more bytes; false at the end of the stream. Throws when the hang guard runs out.
  bool more() {
    const std::size_t before = conn_.received().size();
    while (!conn_.closed() && conn_.received().size() == before) {
      if (std::chrono::steady_clock::now() >= deadline_) {
        throw std::runtime_error("hang guard: nothing from the server for " + std::to_string(kCaseGuard.count()) + " s");
      }
      conn_.wait_for_server(std::chrono::milliseconds(100));
    }
    return conn_.received().size() != before;
  }

  raw_connection& conn_;
  std::chrono::steady_clock::time_point deadline_;
  std::size_t at_ = 0;
};

// Empty when `got` is what `want` describes, else why not.
std::string mismatch(const Json& want, const conformance_frame& got) {
  if ((got.first & 0xF0) != 0x80) return "a server frame without FIN or with RSV bits: " + got.describe();
  if (want.contains("close")) {
    if (got.opcode() != 0x8) return "expected close " + want["close"].dump() + ", got " + got.describe();
    const auto& code = want["close"];
    if (code.is_number() && got.close_code() != code.get<int>()) {
      return "expected close " + code.dump() + ", got " + got.describe();
    }
    if (code == "empty" && !got.payload.empty()) return "expected a close without a code, got " + got.describe();
    return {};
  }
  if (got.opcode() != opcode_of(want["opcode"])) return "expected " + want.dump() + ", got " + got.describe();
  if (want.contains("contains")) {
    if (got.payload.find(want["contains"].get<std::string>()) == std::string::npos) {
      return "expected a payload containing " + want["contains"].dump() + ", got " + got.describe();
    }
    return {};
  }
  const std::string payload = payload_of(want);
  if (got.payload != payload) return "expected payload " + to_hex(payload) + ", got " + got.describe();
  return {};
}

Json load_table() {
  std::ifstream file(PROGRESS_CONFORMANCE_TABLE);
  if (!file) throw std::runtime_error("cannot read " + std::string(PROGRESS_CONFORMANCE_TABLE));
  return Json::parse(file);
}

std::vector<test_case> load_cases() {
  const Json table = load_table();
  std::vector<test_case> cases;
  for (const auto& c : table["cases"]) cases.push_back({c["id"].get<std::string>(), c});
  return cases;
}

// One server per distinct flag set, started on first use and kept for the run.
unsigned short server_for(const std::vector<std::string>& flags) {
  static std::map<std::vector<std::string>, std::unique_ptr<server_process>> servers;
  auto& server = servers[flags];
  if (!server) server = std::make_unique<server_process>(flags);
  return server->port();
}

std::string conformance_upgrade(const std::string& target) {
  return "GET " + target +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
}

// Parameter: the case and the write path (io_uring rounds, send calls, send lanes): pongs and close
// frames queued while a batch is being written must keep their order on each.
class Rfc6455 : public ::testing::TestWithParam<std::tuple<test_case, const char*>> {};

TEST_P(Rfc6455, Case) {
  const Json& c = std::get<0>(GetParam()).data;
  SCOPED_TRACE(c["id"].get<std::string>() + ": " + c["what"].get<std::string>());
  if (c.contains("known_failure")) GTEST_SKIP() << "known failure: " << c["known_failure"].get<std::string>();
  auto flags = c.value("flags", std::vector<std::string>{});
  for (auto& arg : write_path_args(std::get<1>(GetParam()))) flags.push_back(std::move(arg));
  raw_connection conn(server_for(flags));
  reader in(conn);
  conn.send(conformance_upgrade(c.value("target", std::string("/ws/test"))));
  const std::string head = in.head();
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;

  bool sent_close = false;
  for (const auto& spec : c["send"]) {
    const std::string bytes = client_bytes(spec);
    sent_close = sent_close || (!spec.contains("raw") && opcode_of(spec["opcode"]) == 0x8);
    // "split": the frame goes out in pieces of this many bytes (TCP_NODELAY: one send, one segment).
    const std::size_t piece = std::max<std::size_t>(spec.value("split", bytes.size()), 1);
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
      conn.send(bytes.substr(at, piece));
    }
  }

  for (const auto& want : c["expect"]) {
    const auto got = in.frame();
    ASSERT_TRUE(got.has_value()) << "the stream ended; still expected " << want.dump();
    const std::string why = mismatch(want, *got);
    ASSERT_TRUE(why.empty()) << why;
    // A client answers the server's close with its own (RFC 6455 5.5.1), so the server may end
    // the stream at once instead of waiting out its close timeout.
    if (got->opcode() == 0x8 && !sent_close) {
      conn.send(client_bytes(Json{{"opcode", "close"}, {"hex", to_hex(got->payload.substr(0, 2))}}));
      sent_close = true;
    }
  }

  const std::string then = c["then"].get<std::string>();
  if (then == "closed") {
    const std::string extra = in.rest_until_eof();
    EXPECT_TRUE(extra.empty()) << "bytes after the expected frames: " << to_hex(extra);
  } else {
    ASSERT_EQ(then, "open");
    EXPECT_FALSE(conn.closed()) << "the server ended the stream";
    EXPECT_TRUE(in.unread().empty()) << "bytes after the expected frames: " << to_hex(in.unread());
  }
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<test_case, const char*>>& info) {
  std::string name = std::get<0>(info.param).id + "_" + std::get<1>(info.param);
  for (char& ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Table, Rfc6455, ::testing::Combine(::testing::ValuesIn(load_cases()), write_paths), case_name);

// The table itself: every Autobahn category has five cases that run (known failures aside), and ids
// are unique.
TEST(Rfc6455Table, EveryCategoryHasFiveRunningCases) {
  const Json table = load_table();
  std::map<std::string, int> per_category;
  for (const auto& category : table["categories"]) per_category[category.get<std::string>()] = 0;
  std::map<std::string, int> ids;
  for (const auto& c : table["cases"]) {
    const auto category = c["category"].get<std::string>();
    ASSERT_TRUE(per_category.count(category) != 0) << c["id"] << " has an unknown category " << category;
    if (!c.contains("known_failure")) ++per_category[category];
    EXPECT_EQ(++ids[c["id"].get<std::string>()], 1) << "duplicate id " << c["id"];
  }
  for (const auto& [category, count] : per_category) EXPECT_GE(count, 5) << category;
}

}  // namespace
}  // namespace progress::test
