"""The store seam: one small Protocol per concern, and ``Store``, all of them
at once, which the factory returns. Callers ask for the narrowest one they
use (see the package docstring for who uses which, and how a concern is added).

Every method that writes is atomic: either all it was asked to write is
there afterwards, or none of it is. That is what lets the API promise that
nothing is half-stored, and the worker resume after a crash.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from gateway.model import (
    AcceptResult,
    DocumentMeta,
    Exchange,
    ExchangeCount,
    ListingPage,
    ListingQuery,
    OutboxJob,
    Partner,
    RecipientAccount,
    State,
    StatusEvent,
)
from gateway.model.portal import PortalChoice, PortalSession
from gateway.model.webhooks import (
    DeliveryStatus,
    FeedEntry,
    Subscription,
    WebhookAttempt,
    WebhookDelivery,
)


class StoreLifecycle(Protocol):
    """Opening, closing, and the health of the store as a whole."""

    async def open(self) -> None:
        """Connect / create the schema. Idempotent."""

    async def close(self) -> None: ...

    async def probe_write(self, now: datetime, *, room: int = 0) -> None:
        """Raise StoreError unless a small write commits now and (where the
        store can tell) ``room`` more bytes would still fit."""


class DocumentStore(Protocol):
    """Documents: metadata, payload, status history, named blobs, and the
    keys (idempotency, message ids, business identity) they were accepted under.

    ``accept`` lives here although it may also queue an outbox job: the
    document, its first events, its keys and its job are one write, which is
    what makes a delivery happen exactly once.
    """

    async def accept(
        self,
        meta: DocumentMeta,
        payload: bytes,
        events: Sequence[StatusEvent],
        *,
        idempotency_key: str | None = None,
        fingerprint: str = "",
        job: OutboxJob | None = None,
        keys: Sequence[str] = (),
    ) -> AcceptResult:
        """Store a new document with its first status events, and optionally
        an outbox job, all at once.

        Every key (``idempotency_key``, then ``keys``, in that order) is
        claimed for the new document in the same atomic write. When any of
        them was already claimed, nothing is written and the result names
        the document holding the first such key (``created=False``, ``key``
        = that key), with ``fingerprint_matches`` telling whether the earlier
        request had the same ``fingerprint``.
        """

    async def get_meta(self, document_id: str) -> DocumentMeta | None: ...

    async def get_payload(self, document_id: str) -> bytes | None: ...

    async def history(self, document_id: str) -> list[StatusEvent]:
        """The status events of a document, oldest first; [] when unknown."""

    async def append_events(self, document_id: str, events: Sequence[StatusEvent]) -> None: ...

    async def put_blob(self, document_id: str, name: str, data: bytes) -> None:
        """Keep a named artefact of a document (a receipt, a rendering)."""

    async def get_blob(self, document_id: str, name: str) -> bytes | None: ...

    async def find_by_key(self, idempotency_key: str) -> str | None:
        """The document id stored under an idempotency key, if any."""

    async def count_documents(self) -> int: ...

    async def list_documents(
        self, *, since: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> list[DocumentMeta]:
        """Documents newest first (received at or after ``since``), a page of
        ``limit`` after skipping ``offset``: an admin's listing, not a hot path."""


class Outbox(Protocol):
    """The jobs waiting to be delivered, leased to one worker at a time.
    Jobs enter with ``DocumentStore.accept``."""

    async def claim_due(
        self, now: datetime, *, limit: int, lease: timedelta, owner: str
    ) -> list[OutboxJob]:
        """Lease up to ``limit`` jobs due at ``now`` (next_attempt_at <= now)
        that nobody holds, or whose lease expired. A leased job is not
        returned to anyone else until ``now + lease``."""

    async def finish_job(
        self, job: OutboxJob, events: Sequence[StatusEvent], *, owner: str | None = None
    ) -> bool:
        """Remove a job from the outbox and append the document's events, at once.

        With ``owner``: only if that owner still holds the job's lease. If its
        lease expired and another worker claimed the job, nothing is written
        and False is returned (the other worker records the outcome)."""

    async def retry_job(
        self, job: OutboxJob, events: Sequence[StatusEvent], *, owner: str | None = None
    ) -> bool:
        """Put a job back with its new ``attempts`` and ``next_attempt_at``,
        drop its lease and append the events, at once; ``owner`` as for
        ``finish_job``."""

    async def release_leases(self, owner: str | None = None) -> int:
        """Drop the leases of ``owner`` (all leases when None). Returns how many."""

    async def outbox_depth(self) -> int: ...

    async def next_due(self) -> datetime | None:
        """The earliest next_attempt_at in the outbox, leased or not."""


class PartnerStore(Protocol):
    """The partner directory: who our senders' customers are and how they receive."""

    async def put_partners(self, partners: Sequence[Partner]) -> None:
        """Insert or replace partners by id, all of them or none. Within one
        call a repeated id keeps its last occurrence."""

    async def get_partner(self, pid: str) -> Partner | None:
        """The partner with id ``pid``, given as str(ParticipantId)."""

    async def list_partners(self, *, after: str = "", limit: int = 100) -> list[Partner]:
        """Up to ``limit`` partners with ids after ``after``, ordered by id
        (byte order of the UTF-8 text): pass the last id seen to get the next page."""

    async def count_partners(self) -> int: ...


class CacheStore(Protocol):
    """A key-value cache with expiry by the caller's clock (SMP look-ups)."""

    async def cache_put(self, key: str, value: bytes, ttl_seconds: float, *, now: datetime) -> None:
        """Keep ``value`` under ``key`` until ``now + ttl_seconds`` (exclusive),
        replacing what was there. Expired entries are dropped in passing."""

    async def cache_get(self, key: str, *, now: datetime) -> bytes | None:
        """The value under ``key`` if it has not expired at ``now``."""


class LedgerStore(Protocol):
    """The settlement ledger: documents exchanged with each peer, by month."""

    async def record_exchange(self, exchange: Exchange) -> None:
        """Count a document exchanged with a peer, once per document and way
        (recording it again changes nothing)."""

    async def exchanges(self, month: str) -> list[ExchangeCount]:
        """Documents exchanged in a month (YYYY-MM), by peer, agreement, way and type."""


class EventFeed(Protocol):
    """Every status event appended to any document (by ``accept``,
    ``append_events``, ``finish_job``, ``retry_job``), numbered in the same
    write as the event itself: a reader that keeps its cursor misses none."""

    async def feed_after(self, cursor: int, limit: int) -> list[FeedEntry]:
        """Up to ``limit`` entries with a cursor above ``cursor``, oldest first.
        Cursors start at 1 and grow by one per event."""


class WebhookStore(Protocol):
    """Webhook subscriptions, the relay's cursor in the feed, and the
    deliveries owed, each leased to one sender at a time."""

    async def put_subscription(self, subscription: Subscription) -> None:
        """Insert or replace the subscription of ``subscription.owner``."""

    async def get_subscription(self, owner: str) -> Subscription | None: ...

    async def remove_subscription(self, owner: str) -> bool:
        """Drop an owner's subscription; False when it had none."""

    async def list_subscriptions(self) -> list[Subscription]:
        """Every subscription, ordered by owner."""

    async def webhook_cursor(self) -> int:
        """How far the relay has read the feed (0 before it starts)."""

    async def enqueue_webhooks(
        self, deliveries: Sequence[WebhookDelivery], *, expected: int, cursor: int
    ) -> bool:
        """Queue ``deliveries`` and move the relay's cursor from ``expected``
        to ``cursor``, at once. When the cursor is not at ``expected`` (another
        relay moved it) nothing is written and False is returned. A delivery
        whose id is already stored is left as it is."""

    async def claim_webhooks(
        self, now: datetime, *, limit: int, lease: timedelta, owner: str
    ) -> list[WebhookDelivery]:
        """Lease up to ``limit`` pending deliveries due at ``now`` that nobody
        holds (or whose lease expired), earliest first, until ``now + lease``."""

    async def record_webhook_attempt(
        self,
        delivery_id: str,
        attempt: WebhookAttempt,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime | None = None,
        owner: str | None = None,
    ) -> bool:
        """Append an attempt, count it, set the delivery's ``status`` (and,
        when pending, its ``next_attempt_at``) and drop its lease, at once.
        With ``owner``: only while that owner holds the lease (else False,
        nothing written). An unknown delivery raises StoreError."""

    async def release_webhook_leases(self, owner: str | None = None) -> int:
        """Drop the leases of ``owner`` (all leases when None). Returns how many."""

    async def get_webhook_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        """A delivery with its attempts, oldest first."""

    async def list_webhook_deliveries(
        self, *, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        """Deliveries (with ``status`` only, when given), newest first."""


class AccountStore(Protocol):
    """Recipient accounts: who may read which participants' inbox. Only the
    SHA-256 of a token is kept; revoked accounts stay listed, but read nothing."""

    async def add_recipient_account(self, account: RecipientAccount) -> None:
        """Keep a new account; raise StoreError and write nothing when its
        name or token hash is already taken (revoked accounts included)."""

    async def recipient_account_for_token_hash(self, token_sha256: str) -> RecipientAccount | None:
        """The live account of that token hash; None when unknown or revoked."""

    async def has_recipient_account(self, participant: str) -> bool:
        """Whether some live account reads ``participant``'s documents."""

    async def list_recipient_accounts(self) -> list[RecipientAccount]:
        """Every account, revoked ones too, ordered by name."""

    async def revoke_recipient_account(self, name: str) -> bool:
        """Revoke an account at once; False when no live account has that name."""


class DocumentListing(Protocol):
    """Documents by recipient participant and by sender (the origin of an
    outbound document), newest first (received_at, then id), with the
    current state: the state of the document's last status event, kept
    right by every write that appends events."""

    async def list_for_recipients(
        self, participants: Sequence[str], query: ListingQuery
    ) -> ListingPage:
        """Documents addressed to any of ``participants``, a page after ``query.cursor``."""

    async def list_for_origin(self, origin: str, query: ListingQuery) -> ListingPage:
        """Outbound documents submitted under the sender token name ``origin``."""

    async def append_if_current(
        self,
        document_id: str,
        event: StatusEvent,
        allowed: Collection[State],
        *,
        job: OutboxJob | None = None,
    ) -> State | None:
        """Append ``event`` only if the document's current state is one of
        ``allowed``, checked and written at once (two processes cannot both
        pass the check), and queue ``job`` with it when given (an admin's
        retry of a dead letter). Returns the current state found before the
        append; None for an unknown document (nothing written)."""


class PortalStore(Protocol):
    """The recipient portal: signed-in sessions (with their expiry), the
    sign-in links already used (their nonces), and the reception choices
    companies make in the portal, with their history."""

    async def put_portal_session(self, session: PortalSession) -> None:
        """Keep a new session (replacing one with the same id hash)."""

    async def portal_session(self, id_sha256: str, *, now: datetime) -> PortalSession | None:
        """The session of that id hash, None when unknown or expired at ``now``."""

    async def delete_portal_session(self, id_sha256: str) -> bool:
        """End a session at once; False when there was none."""

    async def use_link_nonce(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
        """Mark a sign-in link's nonce used, checked and written at once: True
        the first time, False ever after (two processes cannot both use it).
        The mark is kept at least until ``expires_at``, when the link is dead anyway."""

    async def put_portal_choice(self, choice: PortalChoice) -> None:
        """Record a company's new reception choice: its current one from now,
        and one more entry in its history."""

    async def portal_choice(self, participant: str) -> PortalChoice | None:
        """The company's current choice made in the portal; None if it made none."""

    async def portal_choices(self, participant: str, *, limit: int = 20) -> list[PortalChoice]:
        """The company's choices, newest first (its preference history)."""


class Store(
    StoreLifecycle,
    DocumentStore,
    Outbox,
    PartnerStore,
    CacheStore,
    LedgerStore,
    EventFeed,
    WebhookStore,
    AccountStore,
    DocumentListing,
    PortalStore,
    Protocol,
):
    """Every concern at once: what ``factory.make_store`` returns, and what
    the process that opens and closes the store holds."""
