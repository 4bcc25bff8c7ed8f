"""py3langid's language identifier with its model's two large arrays mapped from a file (issue 11, memory).

py3langid 0.4 holds its model in memory: the byte automaton's transitions (`tk_nextmove`, 38,346 distinct rows
of 256 next states, an `array('I')` of 37.4 MiB), the per-feature log-probabilities of its 142 classes
(`nb_ptc`, float16, 100,053 x 142: 27.1 MiB), and per state of the automaton two Python lists of Python ints
(`_rowbase`, `tk_output`: ~4 MiB). `detect` walks only the rows its texts reach, and reads the full table only
to cut a copy restricted to a workspace's languages (a few columns, 0.2 MiB each).

So the model file's arrays are unpacked once, as they are, into a folder of the data directory
(`CACHE_DIR`, by default `DATA_DIR/cache`: `py3langid-<layout>-<hash of the installed model file>/`, 66 MB on disk) and the two large ones mapped
read-only from there: only the pages a process touches are resident (the automaton without readahead, see
`Mapped`), they are the file's pages (shared by `serve` and its worker process, taken back by the kernel under
pressure), and the table's pages are given back once a restricted copy is cut (`restrict`). Measured:
the model's share of a process's RSS after one `detect` 84 -> 15 MiB (docs/performance.md, 2026-12-06).
The per-state lists become `array('I')` / `array('i')`. py3langid's own code runs unchanged on these (it only
indexes them, and both give back the same values), so the language and every probability are the same, bit
for bit (language/tests/test_identifier.py checks that against py3langid's own identifier on thousands of
texts in about a hundred languages).

Nothing of py3langid's code or model is copied into the repository; the cache is derived from the installed
model file at warm-up. Without a writable data directory the model is held in memory as before (the per-state
lists still as arrays).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import lzma
import mmap
import os
import shutil
import tempfile
import zipfile
from array import array
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

LAYOUT = 1  # bump when what is written to the cache changes
MARK = "out_feat.npy"  # the last file written: the folder is complete


def _flat(values: object, typecode: str) -> array:
    """`values` (a numpy array, an array or a list of ints) as an `array` of `typecode`, each value checked to
    fit (a value that does not would raise rather than wrap)."""
    numbers = np.asarray(values)
    dtype = np.dtype(typecode)  # the C type of the array's typecode
    if numbers.size and (numbers.min() < np.iinfo(dtype).min or numbers.max() > np.iinfo(dtype).max):
        raise OverflowError(f"automaton values do not fit array({typecode!r})")
    flat = array(typecode)
    flat.frombytes(np.ascontiguousarray(numbers, dtype=dtype).tobytes())
    return flat


def model_file() -> Path:
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    return MODEL_DIR / MODEL_FILE


class Mapped:
    """A read-only `.npy` file mapped into memory: `.array` (numpy, no copy), `.view` (a memoryview of the
    same bytes: indexing it gives Python ints, as fast as an `array`).

    `scattered`: the automaton's walk reads a few bytes here and there. Mapped as it is, each fault maps the
    page cache's whole folio around it (large folios on ext4, readahead): one `detect` made 22 MiB of the
    37 MiB resident. So the file's cached pages not mapped by another process are dropped first
    (POSIX_FADV_DONTNEED) and readahead is turned off for the mapping (MADV_RANDOM): a fault then reads and
    maps about one page (140 KiB resident after one `detect`, 620 KiB after 200 more, en/cs)."""

    def __init__(self, path: Path, *, scattered: bool = False) -> None:
        with path.open("rb") as file:
            version = np.lib.format.read_magic(file)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else (
                np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(file)
            offset = file.tell()
            if scattered:
                with contextlib.suppress(OSError, AttributeError):
                    os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        if scattered:
            with contextlib.suppress(OSError, AttributeError):
                self._map.madvise(mmap.MADV_RANDOM)
        if fortran or dtype.hasobject:
            raise ValueError(f"{path}: not a plain C-ordered array")
        count = int(np.prod(shape))
        self.array = np.frombuffer(self._map, dtype=dtype, count=count, offset=offset).reshape(shape)
        self.bytes = memoryview(self._map)[offset:offset + count * dtype.itemsize]

    @property
    def view(self) -> memoryview:
        return self.bytes.cast(self.array.dtype.char)


def drop_pages(numbers: Any) -> None:
    """Give back the resident pages of the file `numbers` is mapped from (nothing for an array in memory)."""
    base = numbers
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None) if isinstance(base, np.ndarray) else getattr(base, "obj", None)
    if base is not None:
        with contextlib.suppress(OSError, ValueError):
            base.madvise(mmap.MADV_DONTNEED)


MEMBERS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")  # the arrays of py3langid's model file


def _write_cache(folder: Path, source: Path) -> None:
    """The model file's own arrays unpacked as `.npy` files into `folder`. py3langid's file is a NumPy `.npz`
    inside LZMA: it is streamed to a temporary file and each member copied out as it is, so no array is built
    in memory. Written to a temporary folder beside `folder` and renamed into place (another process doing the
    same at the same time: the first rename wins)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    try:
        with tempfile.TemporaryFile(dir=building) as npz:
            with lzma.open(source) as packed:
                shutil.copyfileobj(packed, npz, 1 << 20)
            npz.seek(0)
            with zipfile.ZipFile(npz) as archive:
                for name in MEMBERS:
                    with archive.open(f"{name}.npy") as member, (building / f"{name}.npy").open("wb") as out:
                        shutil.copyfileobj(member, out, 1 << 20)
                        out.flush()
                        os.fsync(out.fileno())  # on disk before the rename, and written back: droppable
        try:
            os.rename(building, folder)
        except OSError:  # written meanwhile by another process
            if not (folder / MARK).exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _cache_folder(cache_dir: Path, source: Path) -> Path:
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:20]
    return cache_dir / f"py3langid-{LAYOUT}-{digest}"


def _identifier(ptc: Any, pc: Any, classes: list[str], nextmove: Any, row: Any, output: Any,
                norm_probs: bool) -> Any:
    from py3langid.langid import LanguageIdentifier

    # `tk_row=()`: py3langid would build its row offsets as a list of ints; they are set below as an array
    identifier = LanguageIdentifier(ptc, pc, classes, nextmove, _flat(output, "i"), norm_probs=norm_probs,
                                    tk_row=())
    identifier.tk_row = row
    identifier._rowbase = _flat(np.asarray(row, dtype=np.uint32) << 8, "I")  # py3langid: [r << 8 for r in tk_row]
    return identifier


def _mapped_identifier(folder: Path, norm_probs: bool) -> Any:
    nextmove, ptc = Mapped(folder / "nextmove.npy", scattered=True), Mapped(folder / "ptc.npy")
    return _identifier(ptc.array, np.load(folder / "pc.npy"), np.load(folder / "classes.npy").tolist(),
                       nextmove.view, np.load(folder / "nextmove_row.npy"), np.load(folder / "out_feat.npy"),
                       norm_probs)


def load_identifier(cache_dir: Path | None = None, *, norm_probs: bool = True) -> Any:
    """py3langid's `LanguageIdentifier` for its installed model: its large arrays mapped from the cache in
    `cache_dir` (settings.CACHE_DIR; written there first if missing), or held in memory without a `cache_dir`
    or when it cannot be written; the per-state lists as arrays either way."""
    source = model_file()
    if cache_dir is not None:
        try:
            folder = _cache_folder(Path(cache_dir), source)
            if not (folder / MARK).exists():
                _write_cache(folder, source)
            return _mapped_identifier(folder, norm_probs)
        except (OSError, ValueError) as error:
            logger.warning("language model cache not used (%s): the model is held in memory", error)
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(source)
    return _identifier(np.asarray(ptc), np.asarray(pc), classes, nextmove, row, output, norm_probs)


def restrict(identifier: Any, languages: list[str] | None) -> Any:
    """A copy of `identifier` restricted to `languages` (py3langid's `set_languages` on a shallow copy: it cuts
    the table's columns of those languages into an array of the copy's own); then the full table's pages
    are given back (the next cut reads them from the file again)."""
    restricted = copy.copy(identifier)
    restricted.set_languages(languages)
    drop_pages(identifier._full_model[0])  # py3langid's (nb_ptc, nb_pc, nb_classes) as loaded
    return restricted
