"""The shared store: Redis, one mixin per concern (redis_*.py) over the
plumbing and key layout of redis_base."""

from __future__ import annotations

from gateway.store.redis_accounts import RedisAccounts
from gateway.store.redis_cache import RedisCache
from gateway.store.redis_documents import RedisDocuments
from gateway.store.redis_feed import RedisFeed
from gateway.store.redis_ledger import RedisLedger
from gateway.store.redis_outbox import RedisOutbox
from gateway.store.redis_partners import RedisPartners
from gateway.store.redis_portal import RedisPortal
from gateway.store.redis_webhooks import RedisWebhooks


class RedisStore(
    RedisDocuments,
    RedisOutbox,
    RedisPartners,
    RedisCache,
    RedisLedger,
    RedisFeed,
    RedisWebhooks,
    RedisAccounts,
    RedisPortal,
):
    """Every concern of base.Store, on one Redis under one key prefix."""
