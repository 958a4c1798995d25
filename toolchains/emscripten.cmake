# Project-owned wrapper around Debian's Emscripten toolchain (3.1.6), one commented fix per flag.
find_program(EMCC_EXECUTABLE emcc REQUIRED)
get_filename_component(_em_bin "${EMCC_EXECUTABLE}" REALPATH)
get_filename_component(_em_root "${_em_bin}" DIRECTORY)
if(EXISTS "/usr/share/emscripten/cmake/Modules/Platform/Emscripten.cmake")
  set(_em_root /usr/share/emscripten)
endif()
include("${_em_root}/cmake/Modules/Platform/Emscripten.cmake")

# Without this the toolchain runs `node --experimental-wasm-threads` (rejected by Node 20), and
# Node 20's global fetch makes the 3.1.6 loader try to fetch() a file path (ERR_INVALID_URL).
set(CMAKE_CROSSCOMPILING_EMULATOR "/usr/bin/node;--no-experimental-fetch" CACHE STRING "" FORCE)

# C++ exceptions are ignored by default: a throw would abort the module instead of reaching a
# catch (nlohmann reports parse errors by throwing). Needed at compile and at link.
set(CMAKE_CXX_FLAGS_INIT "-fexceptions")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fexceptions")

# The JS optimizer run at link time imports acorn from Debian's node modules; the environment of
# the configure step does not reach the build, so every link goes through `env`.
set(CMAKE_CXX_LINKER_LAUNCHER "env;NODE_PATH=/usr/share/nodejs" CACHE STRING "" FORCE)
