"""The ``[webhooks]`` table of gateway.toml: how webhook calls are retried
and timed, and where the key that seals their secrets lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config.reader import Reader

KEY_FILE = "webhooks.key"  # beside gateway.toml unless [webhooks] key_file says otherwise


@dataclass(frozen=True)
class WebhookSettings:
    give_up_after_seconds: float = 86400.0  # then the delivery is a dead letter
    initial_backoff_seconds: float = 5.0
    max_backoff_seconds: float = 900.0
    timeout_seconds: float = 10.0  # one POST, connection included
    concurrency: int = 8  # POSTs in flight at once, per gateway process
    poll_seconds: float = 1.0  # how often the relay and the sender look for work
    lease_seconds: float = 60.0  # a delivery being posted is not handed to another process
    # AES-GCM key sealing the signing secrets at rest; None: KEY_FILE beside the configuration.
    key_file: Path | None = None

    def key_path(self, config: Path) -> Path:
        return self.key_file or config.parent / KEY_FILE


_FLOATS = (
    "give_up_after_seconds",
    "initial_backoff_seconds",
    "max_backoff_seconds",
    "timeout_seconds",
    "poll_seconds",
    "lease_seconds",
)


def read_webhooks(r: Reader, t: dict[str, Any]) -> WebhookSettings:
    w, d = "webhooks", WebhookSettings()
    r.unknown_keys(t, w, set(WebhookSettings.__dataclass_fields__))
    floats: dict[str, Any] = {k: r.positive(t, k, w, float, getattr(d, k)) for k in _FLOATS}
    if floats["max_backoff_seconds"] < floats["initial_backoff_seconds"]:
        raise r.fail(f"{w}.max_backoff_seconds", "is smaller than initial_backoff_seconds")
    if floats["lease_seconds"] <= floats["timeout_seconds"]:
        # Shorter, and a second process could post the same call while the first waits.
        raise r.fail(f"{w}.lease_seconds", "must be longer than timeout_seconds")
    key_file = r.file(t, "key_file", w, must_exist=False) if "key_file" in t else None
    return WebhookSettings(
        concurrency=r.positive(t, "concurrency", w, int, d.concurrency),
        key_file=key_file or r.base / KEY_FILE,
        **floats,
    )
