"""Schema version 4: the keys documents were accepted under take their
unambiguous form (gateway.core.dedup), so that a retry of a request made before
the upgrade still finds its document.

Before, keys were ``api:{sender}:{key}``, ``in:{peer}:sbdh:{instance}`` and
``in:{peer}:{message id}``: ambiguous when a name holds ``:``, which is why
they changed. Each row names its document, and the document its sender or
peer (``origin``), which tells where the name ends.

Schema version 5: partners have ``address_suspect`` (why their postal address
is in doubt, "" when it is not); older partner rows get "".

Schema version 6: the event feed (table ``feed``, _sqlite_feed) and the
webhook tables (sqlite_webhooks). They are new tables, which the schema
script creates; the events already stored are not put in the feed, so
upgrading does not send webhooks for old documents.

Schema version 7: documents are indexed for listing by recipient and by
sender, with their current state (sqlite_listing); a file of an earlier
version gets a listing row for each document it holds, its state that of the
document's last event.

Schema version 8: the recipient portal's tables (sqlite_portal: sessions,
used sign-in link nonces, reception choices). New tables only.
"""

from __future__ import annotations

import json
import sqlite3

from gateway.core.dedup import api_key, inbound_keys
from gateway.store._listing import entry_from_json

VERSION = 8
MOVED_DATA = 7  # the last version that moved data (later ones only add tables)


def _new_keys(key: str, origin: str, message_id: str) -> list[str] | None:
    if key.startswith(f"api:{origin}:"):
        return [api_key(origin, key[len(f"api:{origin}:") :])]
    if key.startswith(f"in:{origin}:sbdh:"):
        # The MessageId key is new: the stored message id gives it.
        return inbound_keys(origin, message_id, key[len(f"in:{origin}:sbdh:") :])
    if key.startswith(f"in:{origin}:"):
        return inbound_keys(origin, key[len(f"in:{origin}:") :], "")
    return None  # not a key of the old forms


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a store of an earlier schema ``version`` up to VERSION, in one
    transaction (a store that has never been opened has nothing to move)."""
    if version == 0 or version >= MOVED_DATA:
        return  # new tables only (created by the schema script): nothing to move
    conn.execute("BEGIN IMMEDIATE")
    try:
        if version < 4:
            _unambiguous_keys(conn)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(partners)")}
        if "address_suspect" not in columns:
            conn.execute("ALTER TABLE partners ADD COLUMN address_suspect TEXT NOT NULL DEFAULT ''")
        _backfill_listing(conn)
        conn.execute(f"PRAGMA user_version = {VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _unambiguous_keys(conn: sqlite3.Connection) -> None:
    rows = conn.execute(
        "SELECT i.key, i.doc_id, i.fingerprint, d.meta FROM idempotency i"
        " JOIN documents d ON d.id = i.doc_id"
        " WHERE i.key LIKE 'api:%' OR i.key LIKE 'in:%'"
    ).fetchall()
    for key, doc_id, fingerprint, meta in rows:
        fields = json.loads(meta)
        new = _new_keys(key, fields.get("origin", ""), fields.get("message_id", ""))
        if new is None:
            continue
        conn.execute("DELETE FROM idempotency WHERE key = ?", (key,))
        conn.executemany(
            "INSERT OR IGNORE INTO idempotency (key, doc_id, fingerprint) VALUES (?, ?, ?)",
            [(k, doc_id, fingerprint) for k in new],
        )


def _backfill_listing(conn: sqlite3.Connection) -> None:
    """A listing row for every document that has none yet (all of them, in
    a file from before version 7)."""
    rows = conn.execute(
        "SELECT d.id, d.meta, (SELECT e.event FROM events e WHERE e.doc_id = d.id"
        " ORDER BY e.seq DESC LIMIT 1) FROM documents d"
        " WHERE NOT EXISTS (SELECT 1 FROM listing l WHERE l.doc_id = d.id)"
    )
    for _doc_id, meta, last in rows.fetchall():
        entry = entry_from_json(meta)
        state = "" if last is None else str(json.loads(last)["state"])
        conn.execute(
            "INSERT INTO listing (doc_id, recipient, origin, at, state) VALUES (?, ?, ?, ?, ?)",
            (entry.document_id, entry.recipient, entry.origin, entry.micros, state),
        )
