"""CSV or XLSX of any analytics answer: a list of rows, or one row; nested dictionaries become dotted columns
and lists space-separated values. `attachment` is the one HTTP answer both the API and /app/reports give."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse

from threadline.core.time import now

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def xlsx_bytes(rows: Iterable[dict[str, Any]], columns: list[str] | None = None, *, sheet: str = "data") -> bytes:
    """The same table as `csv_lines` in one XLSX worksheet (numbers stay numbers), written row by row
    (XlsxWriter's constant-memory mode keeps one row in memory)."""
    import xlsxwriter

    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    header: list[str] | None = columns
    line = 0
    for row in rows:
        flat = flatten(row)
        if header is None:
            header = list(flat)
        if line == 0:
            worksheet.write_row(0, 0, header)
            line = 1
        worksheet.write_row(line, 0, [flat.get(column, "") for column in header])
        line += 1
    if line == 0 and header:
        worksheet.write_row(0, 0, header)
    workbook.close()
    return output.getvalue()


def attachment(name: str, fmt: str, rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> HttpResponse:
    """`rows` as a CSV (streamed) or XLSX download named `<name>-<time>.<fmt>`."""
    if fmt == "xlsx":
        response: HttpResponse = HttpResponse(xlsx_bytes(rows, columns, sheet=name), content_type=XLSX_TYPE)
    else:
        fmt = "csv"
        response = StreamingHttpResponse(csv_lines(rows, columns), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}-{now().strftime("%Y%m%d-%H%M%S")}.{fmt}"'
    return response
