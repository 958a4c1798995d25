// The module's own snprintf. Its only caller is nlohmann/json's lexer, for "<U+%.4X>" (a control
// character named in a parse error); the module writes JSON with the core's json_writer.hpp, not
// nlohmann's serializer. musl's snprintf carries all of printf with it, long-double floating
// point included, for that one format: linking this one instead leaves that out of the browser's
// module. It writes the integer conversions (d i u x X, with 0 flag, width,
// precision and the l/ll/h/hh/z length modifiers), %s, %c and %%; any other conversion is
// written as '?', so an unexpected caller shows up in the text rather than in memory.
#include <cstdarg>
#include <cstddef>
#include <cstdint>

namespace {

struct Out {
  char* buf;
  std::size_t cap;
  int written = 0;
  void put(char c) {
    if (static_cast<std::size_t>(written) + 1 < cap) buf[written] = c;
    ++written;
  }
};

int digits_of(const char*& p) {
  int n = 0;
  while (*p >= '0' && *p <= '9') n = n * 10 + (*p++ - '0');
  return n;
}

void put_number(Out& out, std::uintmax_t value, bool negative, unsigned base, bool upper, int width, int precision,
                bool zero) {
  char digits[32];
  int count = 0;
  do {
    const unsigned d = static_cast<unsigned>(value % base);
    digits[count++] = static_cast<char>(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
    value /= base;
  } while (value != 0 && count < 32);
  while (count < precision && count < 32) digits[count++] = '0';
  int len = count + (negative ? 1 : 0);
  if (!zero) {
    for (; len < width; ++len) out.put(' ');
  }
  if (negative) out.put('-');
  if (zero) {
    for (; len < width; ++len) out.put('0');
  }
  while (count > 0) out.put(digits[--count]);
}

}  // namespace

extern "C" int vsnprintf(char* buf, std::size_t cap, const char* fmt, va_list args) {
  Out out{buf, cap};
  for (const char* p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      out.put(*p);
      continue;
    }
    ++p;
    bool zero = false;
    while (*p == '0' || *p == '-' || *p == '+' || *p == ' ' || *p == '#') zero |= *p++ == '0';
    const int width = digits_of(p);
    int precision = -1;
    if (*p == '.') {
      ++p;
      precision = digits_of(p);
    }
    // wasm32: int, long and size_t are 32 bits, long long and intmax_t 64.
    int longs = 0;
    bool wide = false;
    for (; *p == 'l' || *p == 'h' || *p == 'z' || *p == 'j' || *p == 't'; ++p) {
      if (*p == 'l') ++longs;
      if (*p == 'j') wide = true;
    }
    wide = wide || longs >= 2 || (longs == 1 && sizeof(long) == sizeof(long long));
    switch (*p) {
      case 'd':
      case 'i': {
        const std::intmax_t v = wide ? va_arg(args, long long) : va_arg(args, int);
        const std::uintmax_t magnitude = v < 0 ? 0 - static_cast<std::uintmax_t>(v) : static_cast<std::uintmax_t>(v);
        put_number(out, magnitude, v < 0, 10, false, width, precision, zero);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        const std::uintmax_t v = wide ? va_arg(args, unsigned long long) : va_arg(args, unsigned);
        put_number(out, v, false, *p == 'u' ? 10 : 16, *p == 'X', width, precision, zero);
        break;
      }
      case 'c': out.put(static_cast<char>(va_arg(args, int))); break;
      case 's':
        for (const char* s = va_arg(args, const char*); s != nullptr && *s != '\0'; ++s) out.put(*s);
        break;
      case '%': out.put('%'); break;
      case '\0': --p; break;
      default: out.put('?'); break;
    }
  }
  if (cap > 0) buf[static_cast<std::size_t>(out.written) < cap ? out.written : cap - 1] = '\0';
  return out.written;
}

extern "C" int snprintf(char* buf, std::size_t cap, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const int n = vsnprintf(buf, cap, fmt, args);
  va_end(args);
  return n;
}
