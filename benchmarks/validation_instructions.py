"""Validation work in CPU instructions: native against official, with no timing noise.

The timed comparison (``benchmarks/validation.py``) swings by a third from
one run to the next on a shared two-core machine. Instructions executed do
not: valgrind's callgrind counts them, the same for the same program and
input whatever else the machine does. This runs each engine over the 75
corpus examples under callgrind, once with one pass and once with four, and
divides the difference by the three extra passes and the documents: start-up,
imports, compiling the stylesheets and parsing cancel out.

Instructions are not time (Saxon's compiled code does more per cycle than
the interpreter's), so this is the stable companion of the timed ratio, not
a replacement for it. Needs valgrind (Debian package); takes a few minutes.

    python -m benchmarks.validation_instructions [--official-dir DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.validation import DEFAULT_RULES, examples, machine

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")

# The child: parse every example, warm the engine once, then run ``passes``
# passes over all documents.
_CHILD = """
import sys
from lxml import etree
from gateway.validation import check_parsed, classify, validate_schema
from gateway.validation.official import load

engine_name, passes, rules_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
paths = sys.argv[4:]
parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
roots = [etree.parse(p, parser).getroot() for p in paths]
kinds = [classify(r) for r in roots]
if engine_name == "native":
    runs = [lambda r=r, k=k: check_parsed(r, k) for r, k in zip(roots, kinds)]
else:
    engine = load(rules_dir)
    nodes = [engine.saxon_document(r) for r in roots]
    runs = [
        lambda r=r, k=k, n=n: (validate_schema(r, k), engine.run(n))
        for r, k, n in zip(roots, kinds, nodes)
    ]
for run in runs:
    run()
for _ in range(passes):
    for run in runs:
        run()
"""


def count(engine: str, passes: int, rules_dir: Path, paths: list[str]) -> int:
    proc = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            _CHILD,
            engine,
            str(passes),
            str(rules_dir),
            *paths,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = _COLLECTED.search(proc.stderr)
    if found is None:
        raise SystemExit(f"callgrind gave no total:\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def per_document(engine: str, rules_dir: Path, paths: list[str]) -> float:
    one, four = count(engine, 1, rules_dir, paths), count(engine, 4, rules_dir, paths)
    return (four - one) / 3 / len(paths)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official-dir", type=Path, default=DEFAULT_RULES)
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    from gateway.validation.rules import BUILD

    paths = [str(x) for x in examples()]
    print(f"machine: {machine()}")
    print(f"== instructions per document, {len(paths)} corpus examples (callgrind)")
    print(f"  native rules: {BUILD}")
    native = per_document("native", args.official_dir, paths)
    official = per_document("official", args.official_dir, paths)
    print(f"  native   (XSD + rules)   {native / 1e6:8.2f} M instructions (mean per document)")
    print(f"  official (XSD + XSLTs)   {official / 1e6:8.2f} M instructions (mean per document)")
    print(f"  ratio official/native: {official / native:.1f}x")


if __name__ == "__main__":
    main()
