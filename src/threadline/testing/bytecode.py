"""Where the test processes keep compiled bytecode when PYTHONDONTWRITEBYTECODE is set (as on the CI machine).

With the variable set, every process compiles what it imports from source at each start: a pytest worker
~13 s of CPU for src/ and the rewritten test modules (collecting took 21.7 s of CPU, 8.9 s with the cache),
a `threadline serve` or `shell` child 0.5-1 s. The variable asks that nothing be written beside the sources;
the cache is a directory of the user's, outside the checkout, written once per source file version.
Nothing here imports Django: the root conftest uses it before anything else is imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def bytecode_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "threadline-tests" / "pycache"


def keep_bytecode_outside_the_checkout() -> None:
    """In this process: read and write bytecode in `bytecode_cache()` when the environment forbids writing it
    beside the sources (the import system reads both settings at each import, pytest's rewriting too)."""
    if sys.dont_write_bytecode and not sys.pycache_prefix:
        sys.pycache_prefix = str(bytecode_cache())
        sys.dont_write_bytecode = False
