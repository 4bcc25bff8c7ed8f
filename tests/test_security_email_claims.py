"""Issue 10, hole 5: an inbound address or catch-all domain belongs to one workspace, and a catch-all domain
receives mail only once proven through DNS (a real UDP DNS server on loopback) or vouched for by the operator."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from threadline.channels.email import smtp_server
from threadline.channels.models import Channel
from threadline.testing import factories
from threadline.testing.dns import TxtServer


@pytest.fixture
def other(db):
    return factories.make_workspace("Squatter Inc")


def call(client, token, method, path, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


def create_email(client, token, **config):
    return call(client, token, "post", "/channels", {"kind": "email", "name": "Email", "config": config})


@pytest.fixture
def dns(settings):
    with TxtServer() as server:
        settings.THREADLINE = {**settings.THREADLINE, "DNS_NAMESERVERS": [("127.0.0.1", server.port)]}
        yield server


def test_an_address_owned_by_another_workspace_is_refused_with_409(client, admin, other):
    owner, squatter = factories.make_token(admin), factories.make_token(other)
    assert create_email(client, owner, address="support@acme.test", aliases=["help@acme.test"]).status_code == 201
    for config in ({"address": "Support@Acme.test"}, {"address": "x@squat.test", "aliases": ["help@acme.test"]}):
        answer = create_email(client, squatter, **config)
        assert answer.status_code == 409, answer.content
        assert answer.json()["code"] == "email_address_taken"
        assert "another workspace" in answer.json()["message"]
    mine = create_email(client, squatter, address="x@squat.test")
    assert mine.status_code == 201
    answer = call(client, squatter, "patch", f"/channels/{mine.json()['id']}",
                  {"config": {"aliases": ["support@acme.test"]}})
    assert answer.status_code == 409
    assert Channel.objects.get(pk=mine.json()["id"]).config["aliases"] == []  # the refused write rolled back
    assert smtp_server.check_recipient("support@acme.test", None)[1].channel.workspace_id == admin.workspace_id


def test_the_cli_refuses_a_taken_address_with_a_clear_error(admin, other):
    call_command("channel", "create-email", "--workspace", admin.workspace.slug, "--address", "support@acme.test")
    with pytest.raises(CommandError, match="support@acme.test belongs to another workspace"):
        call_command("channel", "create-email", "--workspace", other.workspace.slug, "--address",
                     "x@squat.test", "--alias", "support@acme.test")
    assert Channel.objects.filter(workspace=other.workspace).count() == 0


def test_a_catch_all_domain_receives_mail_only_after_its_txt_record_is_found(client, admin, dns):
    token = factories.make_token(admin)
    channel = create_email(client, token, address="sales@shop.test", catch_all_domains=["shop.test"]).json()
    assert smtp_server.check_recipient("anyone@shop.test", None)[0].startswith("550")
    [domain] = call(client, token, "get", f"/channels/{channel['id']}/email/domains").json()
    assert domain["record_name"] == "_threadline.shop.test"
    assert domain["record_value"].startswith("threadline-verify=") and domain["verified"] is False
    refused = call(client, token, "post", f"/channels/{channel['id']}/email/domains/shop.test/verify")
    assert refused.status_code == 400 and refused.json()["code"] == "domain_not_verified"
    dns.records["_threadline.shop.test"] = ["v=spf1 -all", "threadline-verify=someone-elses-token"]
    assert call(client, token, "post", f"/channels/{channel['id']}/email/domains/shop.test/verify").status_code == 400
    dns.records["_threadline.shop.test"].append(domain["record_value"])
    verified = call(client, token, "post", f"/channels/{channel['id']}/email/domains/shop.test/verify")
    assert verified.status_code == 200 and verified.json()["verified"] is True
    assert "_threadline.shop.test" in dns.queries
    answer, route = smtp_server.check_recipient("anyone@shop.test", None)
    assert answer.startswith("250") and route.channel.pk == channel["id"]


def test_a_domain_proven_by_one_workspace_cannot_be_claimed_by_another(client, admin, other):
    owner, squatter = factories.make_token(admin), factories.make_token(other)
    create_email(client, owner, address="sales@shop.test", catch_all_domains=["shop.test"])
    call_command("email", "verify-domain", "shop.test", "--force")
    assert create_email(client, squatter, address="x@squat.test", catch_all_domains=["shop.test"]).status_code == 409
    assert create_email(client, squatter, address="ceo@shop.test").status_code == 409
    answer, route = smtp_server.check_recipient("ceo@shop.test", None)
    assert route.channel.workspace_id == admin.workspace_id


def test_the_operator_can_vouch_for_a_domain_without_dns(admin, dns):
    from threadline.channels.email.models import EmailClaim

    call_command("channel", "create-email", "--workspace", admin.workspace.slug, "--address", "sales@shop.test",
                 "--catch-all", "shop.test")
    with pytest.raises(CommandError, match="No TXT record threadline-verify="):
        call_command("email", "verify-domain", "shop.test")
    assert EmailClaim.objects.get(value="shop.test").verified_at is None
    call_command("email", "verify-domain", "shop.test", "--force")
    claim = EmailClaim.objects.get(value="shop.test")
    assert claim.verified_by == "operator"
    assert smtp_server.check_recipient("anyone@shop.test", None)[0].startswith("250")
