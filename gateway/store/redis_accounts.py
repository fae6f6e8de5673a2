"""Recipient accounts in the shared store (key layout in redis_base): a
record per account name, the account of each token hash, and how many live
accounts read each participant, all changed together by one script."""

from __future__ import annotations

import json

from gateway.model import RecipientAccount
from gateway.store._codec import from_micros, to_micros
from gateway.store.redis_base import RedisBase, as_text

# KEYS: accounts, tokens, reads; ARGV: name, token hash, record, participants...
ADD = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'name' end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 'token' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
for i = 4, #ARGV do redis.call('HINCRBY', KEYS[3], ARGV[i], 1) end
return 'ok'
"""

# KEYS: as ADD; ARGV: name. The token hash stays taken, so it is never reused.
REVOKE = """
local text = redis.call('HGET', KEYS[1], ARGV[1])
if not text then return 0 end
local record = cjson.decode(text)
if record['revoked'] then return 0 end
record['revoked'] = true
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
for _, pid in ipairs(record['participants']) do
  if redis.call('HINCRBY', KEYS[3], pid, -1) <= 0 then redis.call('HDEL', KEYS[3], pid) end
end
return 1
"""


def _dump(account: RecipientAccount) -> str:
    return json.dumps(
        {
            "name": account.name,
            "token_sha256": account.token_sha256,
            "participants": list(account.participants),
            "created_at": to_micros(account.created_at),
            "revoked": account.revoked,
        }
    )


def _load(text: bytes | str) -> RecipientAccount:
    data = json.loads(text)
    return RecipientAccount(
        data["name"],
        data["token_sha256"],
        tuple(data["participants"]),
        from_micros(data["created_at"]),
        bool(data["revoked"]),
    )


class RedisAccounts(RedisBase):
    def _account_keys(self) -> list[str]:
        k = self._keys
        return [k.accounts, k.account_tokens, k.account_reads]

    async def add_recipient_account(self, account: RecipientAccount) -> None:
        participants = list(dict.fromkeys(account.participants))
        account = RecipientAccount(
            account.name, account.token_sha256, tuple(participants), account.created_at
        )
        args = [account.name, account.token_sha256, _dump(account), *participants]
        outcome = as_text(await self._run(ADD, self._account_keys(), args))
        if outcome != "ok":
            raise self._refused(f"a recipient account with that {outcome} exists already")

    async def recipient_account_for_token_hash(self, token_sha256: str) -> RecipientAccount | None:
        k = self._keys
        with self._translate():
            name = await self._redis.hget(k.account_tokens, token_sha256)
            text = None if name is None else await self._redis.hget(k.accounts, name)
        if text is None:
            return None
        account = _load(text)
        return None if account.revoked else account

    async def has_recipient_account(self, participant: str) -> bool:
        with self._translate():
            count = await self._redis.hget(self._keys.account_reads, participant)
        return count is not None and int(count) > 0

    async def list_recipient_accounts(self) -> list[RecipientAccount]:
        with self._translate():
            records = await self._redis.hvals(self._keys.accounts)
        return sorted((_load(text) for text in records), key=lambda a: a.name)

    async def revoke_recipient_account(self, name: str) -> bool:
        return bool(await self._run(REVOKE, self._account_keys(), [name]))
