"""How `make test` (`pytest -n auto --dist loadgroup`) shares the suite between its workers (testing.fixtures):
a browser module's tests are one xdist unit (they share the module's `threadline serve`), each
browser module a unit of its own, and the tests that start processes are handed out before the in-process
ones. xdist 3.8 on pytest 9 ignored every group silently; this collects a small suite as a worker does and
asks xdist's own scheduler which unit each test falls in."""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling

pytest_plugins = ["pytester"]

BROWSER_ONE = """
import pytest
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
def test_a(): pass
@pytest.mark.parametrize("width", [1280, 390])
def test_b(width): pass
"""
BROWSER_TWO = """
import pytest
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
def test_c(): pass
"""
PLAIN = """
import pytest
def test_in_process(): pass
@pytest.mark.slow
def test_starts_a_server(): pass
"""
CONFTEST = """
pytest_plugins = ["threadline.testing.fixtures"]
def pytest_configure(config):
    config.option.loadgroup = True  # what xdist sets in each worker under --dist loadgroup
"""


def unit(nodeid: str) -> str:
    return LoadGroupScheduling._split_scope(None, nodeid)  # noqa: SLF001 - xdist's own grouping rule


def test_each_browser_module_is_one_unit_and_process_tests_come_first(pytester):
    pytester.makeini("[pytest]\nmarkers =\n  slow: starts real server processes\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_plain=PLAIN, test_browser_one=BROWSER_ONE, test_browser_two=BROWSER_TWO)

    _, recorder = pytester.inline_genitems()
    ids = [item.nodeid for item in recorder.getcall("pytest_collection_finish").session.items]  # as sent to xdist
    units = {nodeid: unit(nodeid) for nodeid in ids}

    one = {units[nodeid] for nodeid in ids if nodeid.startswith("test_browser_one.py::")}
    two = {units[nodeid] for nodeid in ids if nodeid.startswith("test_browser_two.py::")}
    assert len(one) == 1 and len(two) == 1 and one != two  # a unit per browser module, all its tests in it
    assert units["test_plain.py::test_in_process"] == "test_plain.py::test_in_process"  # ungrouped: its own
    assert [nodeid.split("@")[0] for nodeid in ids] == [
        "test_browser_one.py::test_a", "test_browser_one.py::test_b[1280]", "test_browser_one.py::test_b[390]",
        "test_browser_two.py::test_c", "test_plain.py::test_starts_a_server", "test_plain.py::test_in_process",
    ]
