"""Prepare and verify every dataset and pretrained checkpoint of the kit.

    python datasets.py list                      what exists and what is ready
    python datasets.py prepare NAME [--from DIR] build an embedded set, read a real one from DIR
                                                 (or download it when a network is there), or
                                                 make the kit's pretrained checkpoint
    python datasets.py prepare --embedded        build every embedded set
    python datasets.py verify [NAME ...]         check what is prepared (hashes, shapes)

Everything is cached under $VISLAB_CACHE (default ./cache), never committed.
"""

import argparse
import sys
import time
from pathlib import Path

from vislab.data.registry import all_specs, get_spec


def list_specs() -> int:
    for spec in all_specs().values():
        state = "ready" if spec.is_ready() else "not prepared"
        print(f"{spec.name:24} {spec.kind:10} {state:13} {spec.description}")
    return 0


def prepare(names: list[str], source: Path | None, embedded: bool) -> int:
    specs = all_specs()
    if embedded:
        names = [name for name, spec in specs.items() if spec.kind == "embedded"]
    if not names:
        print("name a dataset (see `python datasets.py list`) or pass --embedded", file=sys.stderr)
        return 2
    for name in names:
        spec = get_spec(name)
        start = time.perf_counter()
        print(f"preparing {name} ...", flush=True)
        spec.prepare(source)
        print(f"{name}: {spec.verify()} ({time.perf_counter() - start:.0f} s)")
    return 0


def verify(names: list[str]) -> int:
    specs = all_specs()
    failures = 0
    for name in names or [n for n, s in specs.items() if s.is_ready()]:
        try:
            print(f"ok    {name}: {get_spec(name).verify()}")
        except Exception as error:  # report every broken dataset, not just the first
            failures += 1
            print(f"FAIL  {name}: {error}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list datasets and checkpoints")
    prep = commands.add_parser("prepare", help="build, read or download datasets")
    prep.add_argument("names", nargs="*")
    prep.add_argument("--from", dest="source", type=Path, default=None,
                      help="folder holding a real dataset in its own format")
    prep.add_argument("--embedded", action="store_true", help="build every embedded dataset")
    check = commands.add_parser("verify", help="verify prepared datasets")
    check.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return list_specs()
        if args.command == "prepare":
            return prepare(args.names, args.source, args.embedded)
        return verify(args.names)
    except (KeyError, FileNotFoundError, RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
