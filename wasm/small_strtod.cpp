// The module's own strtod. Its only caller is the core's JSON reader (core/src/json_scan.cpp:
// libc++ here has no floating-point from_chars), with a number token it has already checked
// ("-12.5e3"; also an integer too large for 64 bits). musl's strtod reads every number as a long
// double, which wasm does in software as a 128-bit float: kilobytes of arithmetic for one
// conversion. JavaScript's Number() reads the same token, correctly rounded as strtod is, so the
// module asks the page. Only that grammar is read (sign, digits, fraction, exponent): anything
// else, such as "inf" or a hex float, reads as 0 with nothing consumed.
#include <cstddef>

#include <emscripten/em_js.h>

// Byte by byte: a token may be long, and spreading it as call arguments could overflow the stack.
EM_JS(double, progress_number_of, (const char* text, std::size_t size), {
  let s = "";
  for (let i = 0; i < size; ++i) s += String.fromCharCode(HEAPU8[text + i]);
  return Number(s);
});

namespace {

const char* skip_digits(const char* p) {
  while (*p >= '0' && *p <= '9') ++p;
  return p;
}

}  // namespace

extern "C" double strtod(const char* text, char** end) {
  const char* p = text;
  if (*p == '-' || *p == '+') ++p;
  const char* const whole = p;
  p = skip_digits(p);
  bool digits = p != whole;
  if (*p == '.') {
    const char* const fraction = p + 1;
    const char* const after = skip_digits(fraction);
    if (digits || after != fraction) {
      digits = true;
      p = after;
    }
  }
  if (!digits) {
    if (end) *end = const_cast<char*>(text);
    return 0;
  }
  if (*p == 'e' || *p == 'E') {
    const char* exponent = p + 1;
    if (*exponent == '-' || *exponent == '+') ++exponent;
    const char* const after = skip_digits(exponent);
    if (after != exponent) p = after;
  }
  if (end) *end = const_cast<char*>(p);
  return progress_number_of(text, static_cast<std::size_t>(p - text));
}

// libc++'s std::stof and std::stold refer to these (nothing in the module calls them): defined
// here, through strtod, so that musl's strtod.o, which holds all three, is not linked as well.
extern "C" float strtof(const char* text, char** end) { return static_cast<float>(strtod(text, end)); }
extern "C" long double strtold(const char* text, char** end) { return strtod(text, end); }
