"""The ``[webhooks]`` table: defaults, values read, and mistakes refused with
the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import loader
from gateway.errors import ConfigError


def _with(cfg: Path, table: str) -> Path:
    cfg.write_text(cfg.read_text() + "\n[webhooks]\n" + table + "\n")
    return cfg


def test_defaults_and_values(network_dir: tuple[Path, str]) -> None:
    """Without [webhooks], calls give up after a day and the key file is webhooks.key beside the
    configuration; given values are read, a relative key_file beside the configuration too."""
    cfg, _ = network_dir
    s = loader.load(cfg)
    assert s.webhooks.give_up_after_seconds == 86400
    assert s.webhooks.key_path(s.path) == cfg.parent / "webhooks.key"
    s = loader.load(
        _with(cfg, 'give_up_after_seconds = 60\nconcurrency = 2\nkey_file = "keys/hooks.key"')
    )
    assert (s.webhooks.give_up_after_seconds, s.webhooks.concurrency) == (60, 2)
    assert s.webhooks.key_path(s.path) == cfg.parent / "keys" / "hooks.key"


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ("give_up_after_seconds = 0", "webhooks.give_up_after_seconds", "greater than 0"),
        ("timeout_seconds = 30\nlease_seconds = 10", "webhooks.lease_seconds", "longer than"),
        (
            "initial_backoff_seconds = 60\nmax_backoff_seconds = 5",
            "webhooks.max_backoff",
            "smaller",
        ),
        ("concurrency = 1.5", "webhooks.concurrency", "an integer"),
        ("url = 'https://x'", "webhooks.url", "unknown key"),
    ],
)
def test_mistakes_are_named(
    network_dir: tuple[Path, str], table: str, key: str, problem: str
) -> None:
    """A [webhooks] value out of range or of the wrong kind, or an unknown key, is refused
    naming the key and the problem."""
    cfg, _ = network_dir
    with pytest.raises(ConfigError) as caught:
        loader.load(_with(cfg, table))
    assert key in caught.value.message and problem in caught.value.message
