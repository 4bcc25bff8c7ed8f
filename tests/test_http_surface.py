"""The fixed HTTP surface (docs/architecture.md, Contracts) answers where documented."""

from __future__ import annotations


def test_root_sends_people_to_the_agent_workspace(client):
    answer = client.get("/")
    assert (answer.status_code, answer["Location"]) == (302, "/app/")


def test_health_and_readiness(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_metrics_count_requests_and_inbound_messages(client, db):
    client.get("/healthz")
    text = client.get("/metrics").content.decode()
    assert "threadline_http_requests_total" in text
    assert "threadline_queue_depth" in text


def test_a_wrong_host_header_is_a_400_logged_on_one_line(client, db, caplog):
    """A scanner sending another Host gets 400 and one log line, not a traceback per request."""
    with caplog.at_level("WARNING"):
        answer = client.get("/api/v1/me", HTTP_HOST="evil.example")
    assert answer.status_code == 400
    records = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert len(records) == 1
    assert records[0].exc_info is None and records[0].exc_text is None
    assert "\n" not in records[0].getMessage() and "evil.example" in records[0].getMessage()
