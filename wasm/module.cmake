# progress_wasm: the module the web package loads (web/src/wasm.js): plain C exports
# (bindings.cpp) driven by web/src/session.js. Output progress_wasm.js (ES module factory) +
# progress_wasm.wasm, copied into web/dist/ after each link so the package, its tests and the
# server's web root always see the last build.
#
# Size matters: the browser downloads this module (`node bench/wasm_session_bench.mjs` measures it;
# figures in bench/RESULTS.md). Plain C exports instead of embind, emmalloc and native wasm
# exceptions keep it small; what is left is mostly the core's client path. nlohmann/json is in it
# only as the container of user JSON (`data`, `result`, `error`): the core's one-pass reader
# (json_scan.cpp) parses and its json_writer.hpp writes, so nlohmann's parser and serializer,
# and with them musl's printf, are not linked.
#
# The module links its own copy of the core, compiled with -Oz -flto, so link-time optimization
# across the core and the bindings drops what the client never calls (the server half, unused
# encoders). progress_core itself stays as its owners build it (the wasm vector runner and core
# tests use it); the cost is compiling the core sources twice in the wasm preset.
get_target_property(_core_sources progress_core SOURCES)
get_target_property(_core_includes progress_core INCLUDE_DIRECTORIES)
add_library(progress_wasm_core STATIC EXCLUDE_FROM_ALL ${_core_sources})
target_include_directories(progress_wasm_core PUBLIC ${_core_includes})
target_link_libraries(progress_wasm_core PUBLIC nlohmann_json::nlohmann_json PRIVATE progress_warnings)
target_compile_features(progress_wasm_core PUBLIC cxx_std_20)
# -fno-rtti: nothing on the client path uses typeid or dynamic_cast (exception type info is still
# emitted for throw/catch); 0.1 KB gzipped.
target_compile_options(progress_wasm_core PRIVATE -Oz -flto -fwasm-exceptions -fno-rtti)
# One writer per frame type instead of two: the stack buffer is the server's fast path
# (codec_encode.cpp).
target_compile_definitions(progress_wasm_core PRIVATE PROGRESS_ENCODE_INTO_STRING)

add_executable(progress_wasm ${CMAKE_CURRENT_SOURCE_DIR}/bindings.cpp
                             ${CMAKE_CURRENT_SOURCE_DIR}/small_strtod.cpp)
target_link_libraries(progress_wasm PRIVATE progress_wasm_core progress_warnings)
# -Oz on top of the preset's -Os: the bindings are not hot code, bytes over the wire matter more.
target_compile_options(progress_wasm PRIVATE -Oz -flto -fwasm-exceptions -fno-rtti)
set(_progress_wasm_exports
  _malloc _free _heapInUse
  _pw_session_new _pw_session_config_error _pw_session_delete
  _pw_input _pw_input_names
  _pw_poll _pw_timeout _pw_state _pw_view _pw_process_ids
  _pw_decode_server_frame _pw_is_valid_process_id)
list(JOIN _progress_wasm_exports "," _progress_wasm_exports)
target_link_options(progress_wasm PRIVATE
  -Oz
  -flto
  # The core throws and catches internally (the decoder's FrameError, bad client options), so
  # exceptions stay on, but as native wasm exceptions: the toolchain's -fexceptions emulates them
  # with a JS call around every call that may throw (measured: 3.2 KB gzipped more, and most of
  # the per-frame time). Browsers with wasm exception handling (Chrome 95, Firefox 100,
  # Safari 15.2) and Node 17+ run it; the flag must be on every compile and the link.
  -fexceptions
  -fwasm-exceptions
  -sMALLOC=emmalloc
  -sMODULARIZE=1
  -sEXPORT_ES6=1
  -sEXPORT_NAME=createProgressWasm
  # Browser only; Node tests pass `wasmBinary` (a node environment breaks ES6 output on 3.1.6).
  -sENVIRONMENT=web
  # Sessions come and go for the page's lifetime; the heap may need more than the initial 16 MiB
  # only under a burst, and the memory test checks it stops growing.
  -sALLOW_MEMORY_GROWTH=1
  # Nothing reads files or argv: leave the filesystem emulation out (about 10 KiB of glue).
  -sFILESYSTEM=0
  # The page decides what a failure means; never print to the console or exit the page.
  -sEXIT_RUNTIME=0
  # The only setting web/src/wasm.js passes (it fetches the .wasm itself, to name a URL that
  # fails); the glue drops its code for the other hooks.
  "-sINCOMING_MODULE_JS_API=[wasmBinary]"
  # Nothing calls setjmp or reads errno from JavaScript.
  -sSUPPORT_LONGJMP=0
  -sSUPPORT_ERRNO=0
  # wasm-opt -Oz until it stops shrinking: measured 0.3 KB gzipped.
  -sBINARYEN_EXTRA_PASSES=--converge
  # Lets wasm-opt assume a load or division never traps (0.1 KB): nothing here relies on a trap;
  # bad input is refused by checks before any access.
  -sBINARYEN_IGNORE_IMPLICIT_TRAPS=1
  # Plain C exports (wasm/bindings.cpp); malloc/free let web/src/session.js move strings.
  "-sEXPORTED_FUNCTIONS=${_progress_wasm_exports}")
set_target_properties(progress_wasm PROPERTIES OUTPUT_NAME progress_wasm SUFFIX ".js")

# One more wasm-opt round after emcc's own: its last steps (import/export minification, metadce)
# leave code the optimizer can then shrink again (measured 0.2 KB gzipped). The binaryen that
# Debian's emscripten depends on, with the features and assumptions emcc itself passes it.
find_program(PROGRESS_WASM_OPT wasm-opt REQUIRED)
set(PROGRESS_WEB_DIST ${PROJECT_SOURCE_DIR}/web/dist)
add_custom_command(TARGET progress_wasm POST_BUILD
  COMMAND ${PROGRESS_WASM_OPT} -Oz --converge --ignore-implicit-traps --low-memory-unused --zero-filled-memory
          --mvp-features --enable-exception-handling
          $<TARGET_FILE_DIR:progress_wasm>/progress_wasm.wasm
          -o $<TARGET_FILE_DIR:progress_wasm>/progress_wasm.wasm
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROGRESS_WEB_DIST}
  COMMAND ${CMAKE_COMMAND} -E copy_if_different
          $<TARGET_FILE_DIR:progress_wasm>/progress_wasm.js
          $<TARGET_FILE_DIR:progress_wasm>/progress_wasm.wasm
          ${PROGRESS_WEB_DIST}
  COMMENT "Copying progress_wasm.{js,wasm} into web/dist")
