"""The pure policies the service applies around each document.

Retries (``backoff``), per-peer circuit breakers (``breaker``), failed-login
limits (``ratelimit``) and the keys a document is known by for duplicate
elimination (``dedup``). Values in, values out: no I/O, no clock reads
(time is passed in), no logging.
"""
