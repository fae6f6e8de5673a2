"""The embedded store: one SQLite file, one mixin per concern (sqlite_*.py)
over the plumbing of sqlite_base."""

from __future__ import annotations

from gateway.store import (
    sqlite_accounts,
    sqlite_base,
    sqlite_cache,
    sqlite_documents,
    sqlite_feed,
    sqlite_ledger,
    sqlite_listing,
    sqlite_outbox,
    sqlite_partners,
    sqlite_portal,
    sqlite_webhooks,
)


class SqliteStore(
    sqlite_documents.SqliteDocuments,
    sqlite_outbox.SqliteOutbox,
    sqlite_partners.SqlitePartners,
    sqlite_cache.SqliteCache,
    sqlite_ledger.SqliteLedger,
    sqlite_feed.SqliteFeed,
    sqlite_webhooks.SqliteWebhooks,
    sqlite_accounts.SqliteAccounts,
    sqlite_listing.SqliteListing,
    sqlite_portal.SqlitePortal,
):
    """Every concern of base.Store, in one file: its schema is theirs together."""

    schema = (
        sqlite_base.SCHEMA
        + sqlite_documents.SCHEMA
        + sqlite_outbox.SCHEMA
        + sqlite_partners.SCHEMA
        + sqlite_cache.SCHEMA
        + sqlite_ledger.SCHEMA
        + sqlite_feed.SCHEMA
        + sqlite_webhooks.SCHEMA
        + sqlite_accounts.SCHEMA
        + sqlite_listing.SCHEMA
        + sqlite_portal.SCHEMA
    )
