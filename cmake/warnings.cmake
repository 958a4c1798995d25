# Warning flags for our own targets only; third-party headers come in as SYSTEM.
add_library(progress_warnings INTERFACE)
target_compile_options(progress_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
if(PROGRESS_WERROR)
  target_compile_options(progress_warnings INTERFACE -Werror)
endif()
# GCC 12 at -O3 reports a false -Wrestrict inside libstdc++'s string operator+ ("p" + std::to_string(i)),
# GCC bug 105651, fixed in GCC 13. Without this a release build of the tests fails under -Werror.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(progress_warnings INTERFACE -Wno-restrict)
endif()
