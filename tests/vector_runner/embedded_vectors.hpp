#pragma once
#include <span>

namespace progress::vectors {

struct EmbeddedFile {
  const char* name;
  const char* text;
};

// Generated at configure time from tests/vectors/*.json (see tests/CMakeLists.txt).
std::span<const EmbeddedFile> embedded_files();

}  // namespace progress::vectors
