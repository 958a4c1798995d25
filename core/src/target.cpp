#include "progress/target.hpp"

#include <charconv>

namespace progress {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Seq> parse_seq(std::string_view text) {
  Seq value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

struct Route {
  std::string_view prefix;
  Endpoint endpoint;
  bool takes_id;
};

constexpr Route kRoutes[] = {
    {"/ws/progress/", Endpoint::progress, true}, {"/ws/progress", Endpoint::progress_multi, false},
    {"/ws/health", Endpoint::health, false},     {"/ws/test", Endpoint::test_echo, false},
    {"/ws/publish", Endpoint::publish, false},   {"/sse/progress/", Endpoint::sse, true},
};

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

std::optional<Target> parse_target(std::string_view target) {
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  std::optional<Target> result;
  for (const Route& route : kRoutes) {
    if (route.takes_id ? path.starts_with(route.prefix) : path == route.prefix) {
      result = Target{route.endpoint, {}, std::nullopt, std::nullopt, std::nullopt};
      if (route.takes_id) {
        const std::string_view raw = path.substr(route.prefix.size());
        // A malformed escape keeps the raw text, which then fails id validation loudly.
        result->process_id = percent_decode(raw).value_or(std::string(raw));
      }
      break;
    }
  }
  if (!result) return std::nullopt;

  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!value) continue;
    // An unusable after_seq is ignored: the subscriber then gets a full snapshot, always correct.
    if (key == "after_seq") {
      result->after_seq = parse_seq(*value);
    } else if (key == "epoch") {
      result->epoch = std::move(*value);
    } else if (key == "token") {
      result->token = std::move(*value);
    }
  }
  return result;
}

bool apply_last_event_id(Target& target, std::string_view last_event_id) {
  const auto colon = last_event_id.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  auto seq = parse_seq(last_event_id.substr(colon + 1));
  if (!seq) return false;
  target.epoch = std::string(last_event_id.substr(0, colon));
  target.after_seq = seq;
  return true;
}

}  // namespace progress
