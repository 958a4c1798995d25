#!/usr/bin/env bash
# Fails when core/ reaches for I/O, clocks, sleeps, threads, randomness devices or sockets: the
# core's behaviour must be a pure function of the events and times it is given.
set -u
core=${1:?usage: check_core_purity.sh CORE_DIR}
pattern='std::chrono::(system_clock|steady_clock|high_resolution_clock)|\b(time|clock|gettimeofday|clock_gettime|sleep|usleep|nanosleep)\s*\(|std::this_thread|std::thread|std::jthread|std::async|std::mutex|std::random_device|\brand\s*\(|#include\s*<(thread|mutex|future|chrono|random|fstream|iostream|cstdio|sys/socket\.h|netinet/|arpa/|unistd\.h|boost/)|\bgetenv\s*\(|\bstatic\s+[a-zA-Z_:<>]+\s+[a-zA-Z_]+\s*(=|;|\{)'
hits=$(grep -RnE --include='*.hpp' --include='*.cpp' "$pattern" "$core" | grep -v 'purity: allowed')
if [ -n "$hits" ]; then
  echo "core purity violation (no clocks, sleeps, threads, sockets, files or mutable globals in core/):"
  echo "$hits"
  exit 1
fi
echo "core purity: ok ($(find "$core" -name '*.?pp' | wc -l) files checked)"
