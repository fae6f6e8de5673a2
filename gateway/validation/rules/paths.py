"""Paths at any depth, shared by the rule families (values: ``kernel``).

The official rules reach many elements wherever they are: ``//cac:X``, or a
rule context such as ``cac:PaymentMeans/cbc:PaymentID``, which matches that
path under any ancestor. The families register, when imported, every such
path (``reach``) and every element name ending they look for (``ending``).
Each index key (``Doc.index``) is tagged with the registered paths it ends
with, once per distinct key (a memo shared by all documents, since the same
keys come back in every invoice); the model's walk files each key it meets
under its tags: ``Doc.reached[path]`` lists the keys ``//path`` reaches, in
the order of the index (document order of their first node).
"""

from __future__ import annotations

from typing import Final

_NONE: Final[tuple[str, ...]] = ()

# Registered paths by their last step, and name endings ("Amount").
_BY_LAST: dict[str, list[str]] = {}
_ENDINGS: list[str] = []
_REACHED: set[str] = set()
# Index key -> the registered paths (and "*ending" tags) it matches. Bounded,
# so that documents full of made-up names cannot grow it without end. The
# tables only grow with facts true for every document, so documents checked
# at the same time in other threads read them safely.
TAGS: dict[str, tuple[str, ...]] = {}
_TAGS_LIMIT: Final = 50_000


def last_step(key: str) -> str:
    """The last step of an index key, minding a ``/`` inside ``{namespace}``."""
    i = key.rfind("/")
    step = key[i + 1 :]
    if "}" in step and "{" not in step:
        step = key[key.rfind("/", 0, key.rfind("{", 0, i)) + 1 :]
    return step


def reach(*paths: str) -> tuple[str, ...]:
    """Register paths asked for at any depth; at import time."""
    for path in paths:
        if path not in _REACHED:
            _REACHED.add(path)
            _BY_LAST.setdefault(last_step(path), []).append(path)
    TAGS.clear()
    return paths


def ending(*suffixes: str) -> None:
    """Register element name endings (``*Amount``); at import time."""
    _ENDINGS.extend(s for s in suffixes if s not in _ENDINGS)
    TAGS.clear()


def registered(path: str) -> bool:
    return path in _REACHED


def registered_ending(suffix: str) -> bool:
    return suffix in _ENDINGS


def fits(key: str, path: str) -> bool:
    """Whether ``//path`` reaches the index key."""
    return key == path or key.endswith("/" + path)


def tags_of(key: str) -> tuple[str, ...]:
    """The registered paths (and ``*ending`` tags) that reach an index key."""
    found = TAGS.get(key)
    if found is None:
        found = _tags(key)
    return found


def _tags(key: str) -> tuple[str, ...]:
    last = last_step(key)
    tags = [p for p in _BY_LAST.get(last, _NONE) if fits(key, p)]
    if last[:1] != "@":  # element names only
        tags.extend("*" + s for s in _ENDINGS if last.endswith(s))
    found = tuple(tags)
    if len(TAGS) < _TAGS_LIMIT:
        TAGS[key] = found
    return found
