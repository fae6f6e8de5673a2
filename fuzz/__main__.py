"""Coverage-guided fuzzing with atheris (libFuzzer): ``python -m fuzz TARGET [SECONDS]``.

``scripts/fuzz`` installs atheris (the ``fuzz`` extra) and calls this. The
corpus of each target lives in ``var/fuzz/<target>/`` (seeded with the valid
inputs of ``fuzz/seeds.py``, grown by libFuzzer between runs); an input that
breaks a promise is written to ``var/fuzz/crashes/`` and the run stops with
the traceback. Replay one with ``python -m fuzz TARGET --replay FILE``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("target", choices=["mime", "sbdh", "wssec", "document"])
    parser.add_argument("seconds", nargs="?", type=int, default=60, help="how long (default 60)")
    parser.add_argument("--dir", type=Path, default=Path("var/fuzz"), help="corpus and crashes")
    parser.add_argument("--replay", type=Path, help="run one saved input and exit")
    args = parser.parse_args(argv)
    try:
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        print("atheris is not installed: run scripts/fuzz, or pip install -e '.[fuzz]'")
        return 2
    with atheris.instrument_imports(include=["gateway"]):
        from fuzz import targets
    target = targets.TARGETS[args.target]
    if args.replay:
        target(args.replay.read_bytes())
        print(f"{args.replay}: no finding")
        return 0
    corpus = args.dir / args.target
    crashes = args.dir / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(targets.seed_inputs(args.target)):
        (corpus / f"seed-{i}").write_bytes(seed)
    libfuzzer = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={args.seconds}",
        f"-artifact_prefix={crashes}/{args.target}-",
        "-max_len=65536",
        "-rss_limit_mb=2048",
    ]
    atheris.Setup(libfuzzer, target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
