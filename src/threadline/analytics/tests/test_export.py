"""CSV and XLSX exports of the same rows: the XLSX workbook read back from its XML (numbers stay numbers)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from xml.etree import ElementTree

import pytest

from threadline.analytics.export import csv_lines, xlsx_bytes
from threadline.analytics.refresh import rebuild
from threadline.analytics.testing import make_plan, write
from threadline.testing import factories

NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
ROWS = [{"day": "2026-11-02", "count": 3, "first_response": {"met": 2, "breached": None}, "channels": [4, 7]},
        {"day": "2026-11-03", "count": 0, "first_response": {"met": 0, "breached": 1}, "channels": []}]


def read_xlsx(data: bytes) -> list[list[object]]:
    """Every row of the first worksheet: inline strings as text, numbers as int or float."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    table = []
    for row in root.iter(f"{{{NS['x']}}}row"):
        cells: list[object] = []
        for cell in row.findall("x:c", NS):
            letters = re.match(r"[A-Z]+", cell.get("r"))[0]
            column = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(letters))) - 1
            cells += [""] * (column - len(cells))
            if cell.get("t") == "inlineStr":
                cells.append("".join(t.text or "" for t in cell.iter(f"{{{NS['x']}}}t")))
            else:
                value = cell.find("x:v", NS).text
                cells.append(int(float(value)) if float(value).is_integer() else float(value))
        table.append(cells)
    return table


def test_csv_and_xlsx_carry_the_same_table():
    header = ["day", "count", "first_response.met", "first_response.breached", "channels"]
    assert list(csv.reader(io.StringIO("".join(csv_lines(ROWS))))) == [
        header, ["2026-11-02", "3", "2", "", "4 7"], ["2026-11-03", "0", "0", "1", ""]]
    assert read_xlsx(xlsx_bytes(ROWS, sheet="days")) == [header, ["2026-11-02", 3, 2, "", "4 7"],
                                                          ["2026-11-03", 0, 0, 1]]
    assert read_xlsx(xlsx_bytes([], ["a", "b"])) == [["a", "b"]]


@pytest.mark.django_db
def test_the_api_and_the_screen_export_xlsx(client, admin):
    write(admin, make_plan(conversations=30))
    rebuild(admin.workspace_id)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {factories.make_token(admin)}"}
    answer = client.get("/api/v1/analytics/conversations?format=xlsx", **auth)
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="conversation-facts-' in answer["Content-Disposition"]
    table = read_xlsx(answer.content)
    as_csv = list(csv.reader(io.StringIO(b"".join(
        client.get("/api/v1/analytics/conversations?format=csv", **auth).streaming_content).decode())))
    assert len(table) == len(as_csv) == 31 and table[0] == as_csv[0]
    column = table[0].index("messages_contact")
    assert [row[column] for row in table[1:]] == [int(row[column]) for row in as_csv[1:]]
    client.force_login(admin.user)
    days = read_xlsx(client.get("/app/reports/export?what=channels&format=xlsx").content)
    assert sum(row[days[0].index("new_conversations")] for row in days[1:]) == 30
