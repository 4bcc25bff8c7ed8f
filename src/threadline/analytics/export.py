"""CSV of any analytics answer: a list of rows, or one row; nested dictionaries become dotted columns and
lists space-separated values."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = " ".join(str(v) for v in value)
        else:
            flat[name] = "" if value is None else value
    return flat


def csv_lines(rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> Iterator[str]:
    """Streamed: the header (from `columns`, else the first row), then one line per row."""
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        flat = flatten(row)
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=columns or list(flat), extrasaction="ignore")
            writer.writeheader()
        writer.writerow(flat)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if writer is None and columns:
        csv.writer(buffer).writerow(columns)
        yield buffer.getvalue()
