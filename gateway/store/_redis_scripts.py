"""The Lua scripts of the Redis store, one per multi-key write.

Each runs atomically on the server; each checks first and writes last, so a
failed check leaves nothing written. Times are epoch microseconds passed as
strings: Lua would print a number that large as 1.7e+15 and lose digits, so
the scripts compare with tonumber() but store the strings they were given.
"""

# KEYS: docs, doc, events, outbox, jobs, then one idem key per claimed key
# ARGV: doc id, fingerprint, meta, payload, job id ('' = none), job JSON,
#       next_attempt_at, events...
# Returns {'dup', doc, fingerprint matches, index of the key in KEYS} when a
# key is already claimed, so nothing is written.
ACCEPT = """
for i = 6, #KEYS do
  local prior = redis.call('HMGET', KEYS[i], 'doc', 'fp')
  if prior[1] then
    return {'dup', prior[1], prior[2] == ARGV[2] and '1' or '0', i}
  end
end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  return {'err', 'document ' .. ARGV[1] .. ' is already stored', '0', 0}
end
local job = ARGV[5]
if job ~= '' and redis.call('HEXISTS', KEYS[5], job) == 1 then
  return {'err', 'job ' .. job .. ' is already in the outbox', '0', 0}
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'meta', ARGV[3], 'payload', ARGV[4])
if #ARGV > 7 then redis.call('RPUSH', KEYS[3], unpack(ARGV, 8)) end
for i = 6, #KEYS do redis.call('HSET', KEYS[i], 'doc', ARGV[1], 'fp', ARGV[2]) end
if job ~= '' then
  redis.call('HSET', KEYS[5], job, ARGV[6])
  redis.call('ZADD', KEYS[4], ARGV[7], job)
end
return {'ok', ARGV[1], '1', 0}
"""

# KEYS: outbox, leases, owners, jobs; ARGV: now, limit, lease_until, owner.
# Leased jobs are all due, so looking at limit + (live leases) due jobs is
# enough to find `limit` free ones when there are that many.
CLAIM = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local held = redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf')
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES',
                       'LIMIT', 0, limit + held)
local out, taken = {}, 0
for i = 1, #due, 2 do
  if taken >= limit then break end
  local id = due[i]
  local lease = redis.call('ZSCORE', KEYS[2], id)
  if not lease or tonumber(lease) <= now then
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    redis.call('HSET', KEYS[3], id, ARGV[4])
    out[#out + 1] = id
    out[#out + 1] = due[i + 1]
    out[#out + 1] = redis.call('HGET', KEYS[4], id)
    taken = taken + 1
  end
end
return out
"""

# Events for an unknown document are refused; no events need no document,
# so the worker can drop an orphan job with finish_job(job, []).

# KEYS: docs, events(doc); ARGV: doc id, events...
APPEND = """
if #ARGV > 1 and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
if #ARGV > 1 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 2)) end
return 1
"""

# KEYS: docs, events(doc), outbox, leases, owners, jobs;
# ARGV: doc, job, owner ("" = whoever holds it), events...
# Returns 0: unknown document; 2: the lease is held by another owner now (its
# lease had expired and someone else claimed the job): nothing is written.
FINISH = """
if #ARGV > 3 and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[6], ARGV[2]) == 1
   and redis.call('HGET', KEYS[5], ARGV[2]) ~= ARGV[3] then return 2 end
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
redis.call('HDEL', KEYS[6], ARGV[2])
if #ARGV > 3 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 4)) end
return 1
"""

# KEYS: as FINISH; ARGV: doc, job, job JSON, next_attempt_at, owner, events...
# A job finished meanwhile stays finished: only an existing job is updated.
RETRY = """
if #ARGV > 5 and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[5] ~= '' and redis.call('HEXISTS', KEYS[6], ARGV[2]) == 1
   and redis.call('HGET', KEYS[5], ARGV[2]) ~= ARGV[5] then return 2 end
if redis.call('HEXISTS', KEYS[6], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[6], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
end
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
if #ARGV > 5 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 6)) end
return 1
"""

# KEYS: docs, blobs(doc); ARGV: doc, name, data
PUT_BLOB = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

# KEYS: leases, owners; ARGV: '1' for every owner, owner
RELEASE = """
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if ARGV[1] == '1' or redis.call('HGET', KEYS[2], id) == ARGV[2] then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    n = n + 1
  end
end
return n
"""

# KEYS: ledger set of "document|way" seen, ledger counts hash of the month;
# ARGV: "document|way", count field. Counted once per document and way.
RECORD = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
end
return 1
"""
