#pragma once
// What the Redis engine's files share about hiredis: reading replies, sending a command as argv
// (binary-safe), and the `unavailable` error a write gets when Redis cannot take it.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "progress/process_record.hpp"
#include "progress/protocol.hpp"
#include "progress/shared_record.hpp"

namespace progress::server::redis_detail {

inline Error unavailable(const std::string& process_id, const std::optional<Publish>& publish, std::string why) {
  return Error{ErrorCode::unavailable, std::move(why), process_id,
               publish ? publish->id : std::optional<std::string>()};
}

inline std::string_view text_of(const redisReply* reply) {
  return reply->str == nullptr ? std::string_view() : std::string_view(reply->str, reply->len);
}

inline bool is_error(const redisReply* reply) { return reply != nullptr && reply->type == REDIS_REPLY_ERROR; }

inline std::optional<ProcessRecord> parse_record(const redisReply* reply, std::size_t history) {
  if (reply == nullptr || reply->type != REDIS_REPLY_STRING) return std::nullopt;
  auto record = decode_record(text_of(reply), history);
  if (!record) return std::nullopt;
  return std::move(record.value());
}

inline bool send_argv(redisAsyncContext* context, redisCallbackFn* fn, void* privdata,
                      const std::vector<std::string>& args) {
  if (context == nullptr) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return redisAsyncCommandArgv(context, fn, privdata, static_cast<int>(args.size()), argv.data(), lengths.data()) ==
         REDIS_OK;
}

}  // namespace progress::server::redis_detail
