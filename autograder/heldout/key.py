"""The instructor's secret key: the embedded test splits are drawn from seeds derived from it.

Students get the test *inputs* (built with the key by the instructor) but never the key, so the
kit's public code cannot rebuild the test labels. ``python datasets.py secret`` makes a key once
on the grading machine, in ``~/.config/vislab/heldout.key`` (or ``$VISLAB_HELDOUT_KEY_FILE``),
readable by its owner only. Grading without one stops with a message that says how to make it.

:data:`DEMO_KEY` is public: the demo and the kit's own tests use it, and it reproduces the test
splits the kit publishes. Anyone can rebuild their labels: never grade a real course with it.
"""

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_FILE_VARIABLE = "VISLAB_HELDOUT_KEY_FILE"
DEFAULT_KEY_FILE = Path("~/.config/vislab/heldout.key")


class MissingKey(RuntimeError):
    """No instructor key on this machine; the message says how to make one."""


@dataclass(frozen=True)
class HeldoutKey:
    """A secret, and whether it is the public demo key."""

    secret: bytes
    demo: bool = False

    def seed(self, purpose: str) -> int:
        """A 63-bit seed for ``purpose`` (e.g. ``"textured-digits:test"``), secret without the key.

        >>> DEMO_KEY.seed("a") == DEMO_KEY.seed("a") != DEMO_KEY.seed("b")
        True
        """
        digest = hmac.new(self.secret, purpose.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") >> 1

    def seal(self, data: bytes) -> str:
        """An HMAC-SHA256 of ``data`` (hex): only the key's holder can make a matching one."""
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()

    @property
    def fingerprint(self) -> str:
        """A public name of the key (16 hex digits) that reveals nothing of it."""
        return self.seal(b"vislab key fingerprint")[:16]

    def describe(self) -> str:
        return ("the public demo key (its test labels are public: for the demo and the kit's tests)"
                if self.demo else "the instructor's secret key")


DEMO_KEY = HeldoutKey(b"vislab public demo key: anyone can rebuild its test labels", demo=True)


def key_file() -> Path:
    return Path(os.environ.get(KEY_FILE_VARIABLE) or DEFAULT_KEY_FILE).expanduser()


def make_key(path: Path | None = None) -> Path:
    """Write a new random key to ``path`` (default :func:`key_file`), readable by its owner only.

    Refuses to replace an existing key: the held-out labels made with it would no longer match.
    """
    path = Path(path or key_file()).expanduser()
    if path.exists():
        raise FileExistsError(f"{path} exists already: keep it (the test splits were made with "
                              "it); delete it by hand only to start a course anew")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def load_key() -> HeldoutKey:
    """The instructor's key from :func:`key_file`; ``MissingKey`` says how to make one."""
    path = key_file()
    if not path.exists():
        raise MissingKey(
            f"no held-out key at {path}: the test labels of the embedded datasets are made from "
            "an instructor's secret. Run `python datasets.py secret` once on the grading machine "
            f"(or point ${KEY_FILE_VARIABLE} at your key), then `python datasets.py prepare "
            "--embedded`. To grade with the kit's public demo split instead, pass --demo-key.")
    text = path.read_text().strip()
    if len(text) < 32:
        raise MissingKey(f"{path} holds no usable key (fewer than 32 characters): make a new one "
                         "with `python datasets.py secret`")
    return HeldoutKey(text.encode())
