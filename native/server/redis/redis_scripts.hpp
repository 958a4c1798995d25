#pragma once
// The Redis engine's two Lua scripts. Redis runs a script atomically, so the compare-and-set of a
// record, its stream append, its change message and its TTL happen together or not at all.

namespace progress::server::redis_detail {

// KEYS: record hash, event stream, turn, live records, idempotency key. ARGV: expected seq,
// expected epoch ("" = must not exist), new seq, new epoch, new record, event ("" = none: a
// creation), channel, stream length, TTL ms ("0" = none), change message, node id, turn ms,
// process id, max records, the update's idempotency fingerprint ("" = no key), the key's TTL ms.
// Returns {1} when written, {0, current record or nil} on a mismatch, {2} when another node has the
// turn, {3} when creating it would pass max records, {4, "fingerprint seq"} when the idempotency key
// was already used (by another node since this one looked it up).
//
// The idempotency key is written with the record, so a retry that reaches any node after the
// write finds it; it expires on its own (limits::kIdempotencyKeyTtlMs), which bounds the keys.
//
// The turn keeps a busy writer from starving the others: a node that lost a race would otherwise
// always arrive one round trip after the winner's next write. The first loser gets the next write.
//
// The live records are a sorted set scored by when each record expires (+inf until it finishes),
// on Redis's clock like the TTL itself: a creation first drops the expired ones, then counts. Every
// write sets the record's score, so a record written before the set existed joins it on its next
// update.
inline constexpr const char* kCasScript = R"lua(
local turn = redis.call('GET', KEYS[3])
if turn and turn ~= ARGV[11] then return {2} end
if ARGV[15] ~= '' then
  local first = redis.call('GET', KEYS[5])
  if first then return {4, first} end
end
local cur = redis.call('HMGET', KEYS[1], 'seq', 'epoch', 'record')
local lost = false
if ARGV[2] == '' then
  lost = cur[1] ~= false
elseif cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then
  lost = true
end
if lost then
  if not turn then redis.call('SET', KEYS[3], ARGV[11], 'PX', ARGV[12]) end
  return {0, cur[3]}
end
local now
local function now_ms()
  if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return now
end
if ARGV[2] == '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now_ms())
  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[14]) then return {3} end
end
if turn then redis.call('DEL', KEYS[3]) end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[1], 'seq', ARGV[3], 'epoch', ARGV[4], 'record', ARGV[5])
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[8], ARGV[3] .. '-1', 'event', ARGV[6])
end
if ARGV[9] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[9])
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
  redis.call('ZADD', KEYS[4], now_ms() + tonumber(ARGV[9]), ARGV[13])
else
  redis.call('ZADD', KEYS[4], '+inf', ARGV[13])
end
if ARGV[15] ~= '' then redis.call('SET', KEYS[5], ARGV[15] .. ' ' .. ARGV[3], 'PX', ARGV[16]) end
redis.call('PUBLISH', ARGV[7], ARGV[10])
return {1}
)lua";

// KEYS: record hash, event stream. ARGV: how many events. Returns {record or nil, newest events}.
inline constexpr const char* kLoadScript = R"lua(
local rec = redis.call('HGET', KEYS[1], 'record')
if not rec then return {false, {}} end
return {rec, redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[1])}
)lua";

}  // namespace progress::server::redis_detail
