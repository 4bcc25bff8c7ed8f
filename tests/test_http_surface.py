"""The fixed HTTP surface of DESIGN §9 answers where documented."""

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
