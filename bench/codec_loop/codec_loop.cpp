// Decodes one kind of frame in a loop, for counting instructions per decode under callgrind:
//   valgrind --tool=callgrind progress-codec-loop <frame> <count>
// run once with the count and once with 0; the difference over the count is the cost of one
// decode. Frames: publish (the load generator's), publish-full, body, progress, snapshot.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "progress/codec.hpp"

namespace {

const char* const kPublish =
    R"({"type":"publish","id":"41","process_id":"bench-7","data":{"bench_t":1234567890123,"bench_n":41}})";
const char* const kPublishFull =
    R"({"type":"publish","id":"p1","process_id":"job-1","state":"running","stage":"text_extraction",)"
    R"("percent":42.5,"message":"page 3 of 7","data":{"page":3,"pages":7},"lease_ms":30000})";
const char* const kBody =
    R"({"state":"running","stage":"text_extraction","percent":42.5,"message":"page 3 of 7","data":{"page":3,"pages":7}})";
const char* const kProgress =
    R"({"data":{"page":3,"pages":7},"epoch":"a1b2c3d4","message":"page 3 of 7","percent":42.5,)"
    R"("process_id":"job-1","seq":3,"stage":"text_extraction","state":"running","ts":1700000000500,"type":"progress"})";
const char* const kSnapshot =
    R"({"data":{"pages":7},"epoch":"a1b2c3d4","message":"scoring","percent":55,"process_id":"job-1","seq":3,)"
    R"("stage":"analysis","stages":[{"ended_at":1700000000400,"name":"text_extraction","started_at":1700000000000},)"
    R"({"name":"analysis","started_at":1700000000400}],"state":"running","type":"snapshot","updated_at":1700000000500})";

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s publish|publish-full|body|progress|snapshot <count>\n", argv[0]);
    return 2;
  }
  const std::string kind = argv[1];
  const long count = std::strtol(argv[2], nullptr, 10);
  long ok = 0;
  for (long i = 0; i < count; ++i) {
    if (kind == "publish") {
      ok += progress::decode_client_frame(kPublish).ok() ? 1 : 0;
    } else if (kind == "publish-full") {
      ok += progress::decode_client_frame(kPublishFull).ok() ? 1 : 0;
    } else if (kind == "body") {
      ok += progress::decode_publish_body(kBody, "job-1").ok() ? 1 : 0;
    } else if (kind == "progress") {
      ok += progress::decode_server_frame(kProgress).ok() ? 1 : 0;
    } else if (kind == "snapshot") {
      ok += progress::decode_server_frame(kSnapshot).ok() ? 1 : 0;
    } else {
      std::fprintf(stderr, "unknown frame %s\n", kind.c_str());
      return 2;
    }
  }
  if (ok != count) {
    std::fprintf(stderr, "%ld of %ld decodes failed\n", count - ok, count);
    return 1;
  }
  return 0;
}
