# Warning flags for our own targets only; third-party headers come in as SYSTEM.
add_library(progress_warnings INTERFACE)
target_compile_options(progress_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
if(PROGRESS_WERROR)
  target_compile_options(progress_warnings INTERFACE -Werror)
endif()
