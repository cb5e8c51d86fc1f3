"""Prepare and verify every dataset and pretrained checkpoint of the kit.

    python datasets.py list                      what exists and what is ready
    python datasets.py prepare NAME [--from DIR] build an embedded set, read a real one from DIR
                                                 (or download it when a network is there), or
                                                 make the kit's pretrained checkpoint
    python datasets.py prepare --embedded        build every embedded set
    python datasets.py verify [NAME ...]         check what is prepared (hashes, shapes)
    python datasets.py secret                    make the instructor's key (once per course)

What students may see (training data, test images, checkpoints) is cached under $VISLAB_CACHE
(default ./cache); the test labels go to the grading side only ($VISLAB_HELDOUT_DIR, default
./grading/heldout), sealed with the instructor's key. Neither is ever committed. Without a key,
`prepare` uses the kit's public demo key and says so: fine to practise, never to grade a course.
"""

import argparse
import importlib
import importlib.util
import pkgutil
import sys
import time
from pathlib import Path

import autograder.checks
from autograder.heldout.key import DEMO_KEY, HeldoutKey, MissingKey, key_file, load_key, make_key
from vislab.data.registry import all_specs, get_spec


def heldout_builders() -> dict:
    """dataset name -> builder(key, source) of its held-out labels, from every checks package."""
    builders = {}
    for module in pkgutil.iter_modules(autograder.checks.__path__):
        name = f"autograder.checks.{module.name}.heldout"
        if module.ispkg and importlib.util.find_spec(name) is not None:
            builders.update(importlib.import_module(name).HELDOUT_BUILDERS)
    return builders


def grading_key(demo: bool) -> HeldoutKey:
    """The instructor's key, or the public demo key (asked for, or when there is none)."""
    if not demo:
        try:
            return load_key()
        except MissingKey:
            print(f"note: no instructor key at {key_file()}: the test splits are made with the "
                  "kit's public demo key (anyone can rebuild their labels: fine to practise, "
                  "never to grade a course; make a key with `python datasets.py secret`)")
    return DEMO_KEY


def list_specs() -> int:
    for spec in all_specs().values():
        state = "ready" if spec.is_ready() else "not prepared"
        print(f"{spec.name:24} {spec.kind:10} {state:13} {spec.description}")
    return 0


def prepare(names: list[str], source: Path | None, embedded: bool, demo_key: bool) -> int:
    specs = all_specs()
    if embedded:
        names = [name for name, spec in specs.items() if spec.kind == "embedded"]
    if not names:
        print("name a dataset (see `python datasets.py list`) or pass --embedded", file=sys.stderr)
        return 2
    builders = heldout_builders()
    key = grading_key(demo_key) if any(name in builders for name in names) else None
    for name in names:
        spec = get_spec(name)
        start = time.perf_counter()
        print(f"preparing {name} ...", flush=True)
        spec.prepare(source)
        if name in builders:
            builders[name](key, source)
            print(f"{name}: test split and its held-out labels made with {key.describe()}")
        print(f"{name}: {spec.verify()} ({time.perf_counter() - start:.0f} s)")
    return 0


def secret(path: Path | None) -> int:
    made = make_key(path)
    print(f"made a new key in {made} (readable by you only). Keep it on the grading machine, out "
          "of any repository; students never get it. Now run `python datasets.py prepare "
          "--embedded` and hand out the cache's datasets/ folder with the starter notebooks.")
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
    prep.add_argument("--demo-key", action="store_true",
                      help="make the test splits with the kit's public demo key")
    key = commands.add_parser("secret", help="make the instructor's key of the test splits")
    key.add_argument("--out", type=Path, default=None, help=f"where (default {key_file()})")
    check = commands.add_parser("verify", help="verify prepared datasets")
    check.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return list_specs()
        if args.command == "prepare":
            return prepare(args.names, args.source, args.embedded, args.demo_key)
        if args.command == "secret":
            return secret(args.out)
        return verify(args.names)
    except (KeyError, FileNotFoundError, FileExistsError, RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
