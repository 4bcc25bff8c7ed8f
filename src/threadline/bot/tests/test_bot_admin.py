"""The answer bot screen (/app/admin/bot): the workspace's bot and a channel's own, encrypted platform settings,
deflection counts; admins only, and only their own workspace's channels and schedules."""

from __future__ import annotations

from django.db import transaction

from threadline.bot.models import BotSettings
from threadline.sla.actions import do_save_schedule
from threadline.testing import factories
from threadline.web.tests.admin_helpers import members, signed_in

URL = "/app/admin/bot"


def test_admin_turns_the_bot_on_for_the_workspace_and_tunes_one_channel(client, admin):
    channel = factories.make_api_channel(admin)
    with transaction.atomic():
        schedule = do_save_schedule(admin.workspace, None, name="Office", time_zone="Asia/Jerusalem",
                                    weekly={"sun": [["09:00", "17:00"]]})
    signed_in(client, admin)
    page = client.get(URL)
    assert page.status_code == 200 and "Every channel (workspace default)" in page.content.decode()
    answer = client.post(URL, {"channel": "", "enabled": "on", "mode": "answer_bot", "threshold": "0.4",
                               "max_turns": "2", "greeting": "שלום!", "languages": ["he", "en"],
                               "schedule": str(schedule.pk), "resolve_minutes": "15", "abandon_hours": "12"})
    assert answer.status_code == 302
    saved = BotSettings.objects.get(channel__isnull=True)
    assert (saved.enabled, saved.threshold, saved.max_turns, saved.greeting, saved.languages, saved.schedule_id,
            saved.resolve_minutes, saved.abandon_hours) == (True, 0.4, 2, "שלום!", ["en", "he"], schedule.pk, 15, 12)
    assert client.post(URL, {"channel": str(channel.pk), "threshold": "0.9"}).status_code == 302
    own = BotSettings.objects.get(channel=channel)
    assert not own.enabled and own.threshold == 0.9
    assert client.post(URL, {"channel": "", "enabled": "on", "threshold": "7"}).status_code == 400
    assert client.post(URL, {"channel": "", "enabled": "on", "languages": ["xx"]}).status_code == 400
    assert BotSettings.objects.get(channel__isnull=True).threshold == 0.4  # refused changes left it alone
    assert 'id="bot-resolved">0<' in client.get(URL).content.decode()


def test_another_workspaces_channel_or_schedule_is_refused_and_agents_cannot_open_it(client, admin):
    other = factories.make_workspace(name="Other Co")
    foreign = factories.make_api_channel(other)
    with transaction.atomic():
        schedule = do_save_schedule(other.workspace, None, name="Theirs", time_zone="UTC",
                                    weekly={"mon": [["09:00", "17:00"]]})
    signed_in(client, admin)
    assert client.post(URL, {"channel": str(foreign.pk), "enabled": "on"}).status_code == 400
    assert client.post(URL, {"channel": "", "enabled": "on", "schedule": str(schedule.pk)}).status_code == 400
    assert not BotSettings.objects.exists()
    signed_in(client, members(admin)["agent"])
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"channel": "", "enabled": "on"}).status_code == 403


def test_external_platform_settings_are_validated_and_stored_encrypted(client, admin):
    import json

    from threadline.botplatforms.testkit import FakeLexV2

    fake = FakeLexV2().start()
    config = fake.config(handoff_intents=["TalkToAgent"])
    fake.stop()
    signed_in(client, admin)
    refused = client.post(URL, {"channel": "", "enabled": "on", "mode": "external", "external_kind": "lex_v2",
                                "external_config": json.dumps({"region": "eu-west-1"})})
    assert refused.status_code == 400 and not BotSettings.objects.exists()
    assert client.post(URL, {"channel": "", "enabled": "on", "mode": "external", "external_kind": "nope",
                             "external_config": json.dumps(config)}).status_code == 400
    answer = client.post(URL, {"channel": "", "enabled": "on", "mode": "external", "external_kind": "lex_v2",
                               "external_config": json.dumps(config)})
    assert answer.status_code == 302
    saved = BotSettings.objects.get()
    assert saved.external_config == config
    assert config["secret_access_key"] not in saved.external_config_encrypted  # encrypted at rest
    assert config["secret_access_key"] not in client.get(URL).content.decode()  # never shown back
    assert client.post(URL, {"channel": "", "enabled": "on", "mode": "external", "external_kind": "lex_v2",
                             "threshold": "0.5"}).status_code == 302  # blank keeps the stored config
    assert BotSettings.objects.get().external_config == config
