"""Workspace triage settings: the API (read by members, saved by admins, secrets never shown back and kept
when left empty), the preview, the /app/admin/triage screen, and two workspaces kept apart."""

from __future__ import annotations

import json

import pytest

from threadline.audit.models import AuditEntry
from threadline.testing import factories
from threadline.triage import PublicPost, triage_post
from threadline.triage.models import TriageSettings
from threadline.triage.queries import policy_for
from threadline.web.tests.admin_helpers import signed_in

pytestmark = pytest.mark.django_db
URL = "/api/v1/triage/settings"


def put(api, **body):
    return api.put(URL, json.dumps(body), content_type="application/json")


def test_admin_saves_lists_and_provider_secrets_stay_secret(api, admin):
    assert api.get(URL).json()["high_reach"] == 10_000  # the defaults before anything is saved
    saved = put(api, urgent_words=["Recall", " recall ", "lawsuit"], topic_words=["Acme One"], praise_reach=50,
                provider="aws", provider_config={"access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3cret",
                                                 "region": "eu-west-1"})
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["urgent_words"] == ["recall", "lawsuit"] and body["topic_words"] == ["acme one"]
    assert body["provider_config"] == {"access_key_id": "AKIAEXAMPLE", "secret_access_key": True,
                                       "region": "eu-west-1", "base_url": ""}
    row = TriageSettings.objects.get(workspace_id=admin.workspace_id)
    assert "s3cret" not in row.provider_config  # encrypted at rest
    again = put(api, provider="aws", provider_config={"access_key_id": "AKIAEXAMPLE", "secret_access_key": "",
                                                      "region": "eu-central-1"})
    assert again.status_code == 200
    policy = policy_for(admin.workspace_id)
    assert policy.provider["secret_access_key"] == "s3cret" and policy.provider["region"] == "eu-central-1"
    entry = AuditEntry.objects.filter(action="triage.settings_saved").last()
    assert entry.workspace_id == admin.workspace_id and "s3cret" not in json.dumps(entry.details)


def test_bad_settings_are_refused_with_a_code(api):
    assert put(api, provider="openai").json()["code"] == "invalid_provider"
    assert put(api, provider="google", provider_config={}).json()["code"] == "invalid_provider_config"
    assert put(api, provider="google", provider_config={"api_key": "k", "base_url": "ftp://x"}).json()["code"] == \
        "invalid_provider_config"
    assert put(api, urgent_words=["x" * 81]).json()["code"] == "invalid_words"
    assert put(api, complaint_below=0.5).status_code in (400, 422)
    assert put(api, unknown=1).status_code == 422


def test_preview_and_the_workspace_lists_apply_to_its_own_posts_only(api, admin, client):
    other = factories.make_workspace(name="Other Co")
    assert put(api, urgent_words=["recall"], topic_words=["acme one"]).status_code == 200
    preview = api.post("/api/v1/triage/preview", json.dumps({"text": "Is the Acme One part of the recall?",
                                                             "author_reach": 20}), content_type="application/json")
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["category"] == "question" and "acme one" in body["topics"]
    assert {"urgent", "topic"} <= {r["code"] for r in body["reasons"]}
    theirs = triage_post(PublicPost(other.workspace_id, "Is the Acme One part of the recall?", "en", "facebook",
                                    "x", 20, False, False))
    assert "acme one" not in theirs.topics  # another workspace's lists do not apply
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {factories.make_token(other)}"
    assert client.get(URL).json()["urgent_words"] == []


def test_agents_read_but_cannot_save(client, admin):
    agent = factories.make_agent(admin, "agent@example.com")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {factories.make_token(agent)}"
    assert client.get(URL).status_code == 200
    refused = client.put(URL, json.dumps({"urgent_words": ["x"]}), content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"


def test_the_admin_screen_saves_tries_and_is_closed_to_agents(client, admin):
    signed_in(client, admin)
    page = client.get("/app/admin/triage")
    assert page.status_code == 200 and "Public triage" in page.content.decode()
    tried = client.post("/app/admin/triage", {"form": "try", "text": "WIN free crypto www.x.xyz"})
    assert tried.status_code == 200 and "Looks like spam" in tried.content.decode()
    saved = client.post("/app/admin/triage", {"urgent_words": "recall\nlawsuit", "topic_words": "", "spam_words": "",
                                              "abuse_words": "", "high_reach": "5000", "praise_reach": "100",
                                              "complaint_below": "-0.3", "praise_above": "0.4", "provider": "google",
                                              "google_api_key": "AIzaKEY", "google_classify": "1"})
    assert saved.status_code == 302
    row = TriageSettings.objects.get(workspace_id=admin.workspace_id)
    assert (row.urgent_words, row.high_reach, row.provider) == (["recall", "lawsuit"], 5000, "google")
    assert "AIzaKEY" not in client.get("/app/admin/triage").content.decode()
    assert client.post("/app/admin/triage", {"high_reach": "lots"}).status_code == 400
    agent = factories.make_agent(admin, "agent@example.com")
    signed_in(client, agent)
    assert client.get("/app/admin/triage").status_code == 403
    assert client.post("/app/admin/triage", {"urgent_words": "x"}).status_code == 403
