"""Documents the rules have never seen: corpus examples, changed at random.

Each mutant is a real example with a few edits of the kinds that reach the
rules' odd paths: an element removed, doubled or emptied, a value replaced
by an edge case (empty, signed, many decimals, not a number, a date-like
string, whitespace around it), an attribute dropped or changed, a comment
slipped in, two siblings swapped. The seed makes a run repeatable.

    python -m tests.validation.mutate OUT_DIR [--count 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

VALUES = (
    "",
    " ",
    "0",
    "-0",
    "1",
    "-1",
    "100.005",
    "1.999999",
    "12345678901234567890.123",
    "abc",
    " 42 ",
    "2026-02-30",
    "2026-11-29",
    "S",
    "Z",
    "E",
    "AE",
    "K",
    "O",
    "EUR",
    "NOK",
    "DK",
    "NO123456789MVA",
    "0088:7300010000001",
    "NaN",
    "1e3",
)
ATTRIBUTE_VALUES = ("", "EUR", "SEK", "0088", "0192", "9906", "VAT", "XX", "C62")


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and e is not root]


def _mutate_once(root: etree._Element, rng: random.Random) -> None:
    elements = _elements(root)
    if not elements:
        return
    e = rng.choice(elements)
    parent = e.getparent()
    kind = rng.randrange(8)
    if kind == 0 and parent is not None:
        parent.remove(e)
    elif kind == 1 and parent is not None:
        parent.insert(parent.index(e), etree.fromstring(etree.tostring(e)))
    elif kind == 2:
        leaves = [x for x in elements if len(x) == 0] or elements
        rng.choice(leaves).text = rng.choice(VALUES)
    elif kind == 3:
        for child in list(e):
            e.remove(child)
        e.text = rng.choice(("", " ", None))
    elif kind == 4 and e.attrib:
        name = rng.choice(sorted(e.attrib))
        if rng.random() < 0.5:
            del e.attrib[name]
        else:
            e.set(name, rng.choice(ATTRIBUTE_VALUES))
    elif kind == 5:
        e.insert(0, etree.Comment(" inserted "))
    elif kind == 6 and parent is not None:
        siblings = [x for x in parent if isinstance(x.tag, str)]
        if len(siblings) > 1:
            other = rng.choice(siblings)
            i, j = parent.index(e), parent.index(other)
            if i != j:
                lo, hi = sorted((i, j))
                first, second = parent[lo], parent[hi]
                parent.remove(second)
                parent.insert(lo, second)
                parent.remove(first)
                parent.insert(hi, first)
    else:
        e.set(
            rng.choice(("currencyID", "schemeID", "unitCode", "listID")),
            rng.choice(ATTRIBUTE_VALUES),
        )


def mutants(sources: list[Path], count: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """(name, document) pairs: ``count`` mutants of the sources, one to four edits each."""
    rng = random.Random(seed)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for n in range(count):
        source = rng.choice(sources)
        root = etree.parse(str(source), parser).getroot()
        for _ in range(rng.randint(1, 4)):
            _mutate_once(root, rng)
        yield (
            f"{n:05d}-{source.stem}.xml",
            etree.tostring(root, xml_declaration=True, encoding="UTF-8"),
        )


def write(out: Path, sources: list[Path], count: int, seed: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in mutants(sources, count, seed):
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def main() -> None:
    from benchmarks.validation import examples

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    paths = write(args.out, examples(), args.count, args.seed)
    print(f"{len(paths)} mutants in {args.out}")


if __name__ == "__main__":
    main()
