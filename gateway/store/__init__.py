"""Document store: the seam (``base``), split by concern, and its two
implementations, the embedded SQLite file and a shared Redis.

The concerns, one Protocol each in ``base``:

* ``DocumentStore``: documents, their status history, blobs and the keys
  they were accepted under. ``accept`` also queues the outbox job of a new
  document, in the same write (that is the exactly-once guarantee).
* ``Outbox``: jobs due for delivery, leased to one worker at a time.
* ``PartnerStore``: the partner directory.
* ``CacheStore``: a key-value cache with expiry (SMP look-ups).
* ``LedgerStore``: documents exchanged with each peer, counted by month.
* ``EventFeed``: every status event of every document, numbered in the write
  that appends it (``_sqlite_feed``, ``redis_feed.FEED_APPEND``).
* ``WebhookStore``: webhook subscriptions, the relay's cursor in the feed,
  and the calls owed with their attempts.
* ``AccountStore``: recipient accounts (token hash, participants they read).
* ``DocumentListing``: documents by recipient and by sender, newest first,
  with their current state (kept by every write that appends events).
* ``StoreLifecycle``: open, close and the write probe of /healthz.

``Store`` is all of them at once: what ``factory.make_store`` returns and the
process that opens the store holds (server.app, the CLI commands). Everyone
else asks for the narrowest protocol it uses: the API's status view and the
peer gates a ``DocumentStore``, the worker an ``Outbox``, the health probe a
``StoreLifecycle``, ``gateway partners`` a ``PartnerStore``, delivery and the
pipeline ``service.delivery.DeliveryStore`` (documents, outbox, partners and
ledger). Lower layers cannot import this package; they declare the slice
they need themselves and the store fits it (directory.lookup.PartnerSource,
directory.partner_files.PartnerSink, transport.smp_client.LookupCache).

Each implementation is one mixin per concern over a shared base that owns
the connection and the lifecycle: ``sqlite_base`` + ``sqlite_documents``,
``sqlite_outbox``, ``sqlite_partners``, ``sqlite_cache``, ``sqlite_ledger``,
``sqlite_accounts``, ``sqlite_listing``, put together in ``sqlite.SqliteStore``;
likewise ``redis_base`` + the ``redis_*`` modules in ``redis.RedisStore``.
Each concern has a contract suite, ``tests/store/test_contract_<concern>.py``,
run against both.

Adding a concern (the recipient channels' portal inbox and e-mail outbox,
partner campaigns, ...):

1. A Protocol for it in ``base``, its methods documented as a contract
   (what is atomic, what an unknown id reads as), and added to ``Store``.
2. ``sqlite_<concern>.py``: its ``SCHEMA`` and a ``Sqlite<Concern>(SqliteBase)``
   mixin; join both into ``SqliteStore`` (bump ``_sqlite_migrate.VERSION``
   and migrate if existing files need more than new tables).
3. ``redis_<concern>.py``: a ``Redis<Concern>(RedisBase)`` mixin, its Lua
   scripts beside it (every multi-key write is one script); its key names
   in ``redis_base.Keys`` and its layout list, so no two concerns meet.
4. ``tests/store/test_contract_<concern>.py``, using the ``store`` and
   ``backend`` fixtures, so every test runs on both stores.
5. Callers take the new Protocol (or a Protocol that combines it with the
   others they need), never ``Store``.
"""
