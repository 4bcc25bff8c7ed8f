"""The recorded export (1,000 tickets in six languages, built from the providers' documented examples) through
each provider's fake: zero loss (every ticket, comment, attachment and rating, or its reason for being skipped)
and exact timestamps."""

from __future__ import annotations

import pytest

from threadline.migration.fixtures.generator import build
from threadline.migration.tests.helpers import assert_complete, run, serving

EXPORT = build(1000)


@pytest.mark.parametrize("kind", ["zendesk", "freshdesk", "helpscout"])
def test_a_thousand_tickets_arrive_whole(admin, kind):
    workspace = admin.workspace
    assert len(EXPORT.tickets) == 1000 and len({t.language for t in EXPORT.tickets}) == 6
    with serving(kind, EXPORT) as fake:
        report = run(workspace, fake)
    assert report.error == ""
    assert_complete(workspace, kind, EXPORT)
    assert report.counts["tickets"]["imported_ticket"] == 1000
    assert report.counts["tickets"]["imported_message"] + report.counts["tickets"]["imported_note"] \
        == len(EXPORT.comments)
