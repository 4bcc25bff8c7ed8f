"""A voice channel with an IVR flow, and a caller that follows the TwiML the way Twilio does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.models import Channel
from threadline.channels.sms.tests.helpers import ACCOUNT_SID, AUTH_TOKEN, sign

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def fixture(name: str, **values: str) -> str:
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def flow(team_id: int, hours: dict | None = None) -> dict:
    return {
        "languages": [
            {"digit": "1", "code": "en-US", "label": "For English, press 1."},
            {"digit": "2", "code": "he-IL", "label": "לעברית, הקישו 2."},
        ],
        "greeting": {"texts": {"en-US": "Thank you for calling Acme.", "he-IL": "תודה שהתקשרתם לאקמה."}},
        "hours": hours or {"timezone": "Asia/Jerusalem", "weekly": ALWAYS_OPEN, "closed_action": "voicemail",
                           "closed_prompt": {"texts": {"en-US": "We are closed.", "he-IL": "המוקד סגור כעת."}}},
        "menus": [
            {"id": "main", "prompt": {"texts": {"en-US": "For orders press 1, billing press 2, a message press 3, "
                                                          "a call back press 4.",
                                                "he-IL": "להזמנות הקישו 1, לחיוב 2, להודעה 3, לשיחה חוזרת 4."}},
             "options": [
                 {"digit": "1", "speech": ["order", "הזמנה"], "action": "queue", "team_id": team_id},
                 {"digit": "2", "speech": ["billing", "invoice", "חיוב"], "action": "menu", "menu": "billing"},
                 {"digit": "3", "speech": ["message"], "action": "voicemail"},
                 {"digit": "4", "speech": ["call back", "callback"], "action": "callback"},
             ]},
            {"id": "billing", "prompt": {"texts": {"en-US": "For your last invoice press 1, to go back press 9."}},
             "options": [
                 {"digit": "1", "action": "say",
                  "say": {"texts": {"en-US": "Your last invoice was emailed on the first of the month."}}},
                 {"digit": "9", "action": "menu", "menu": "main"},
             ]},
        ],
    }


def make_voice_channel(admin, team_id: int, api_base_url: str = "https://api.twilio.com", hours=None) -> Channel:
    with transaction.atomic():
        return do_create_channel(admin, "voice", "Support line", {
            "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "phone_number": "+15017122661",
            "api_base_url": api_base_url, "flow": flow(team_id, hours),
        })


class Caller:
    """Posts signed Twilio voice requests and follows the TwiML's action URLs."""

    def __init__(self, client, channel: Channel) -> None:
        self.client, self.channel = client, channel

    def post(self, url: str, body: str, *, signature: str | None = None):
        path = url.removeprefix(settings.PUBLIC_URL)
        sig = sign(settings.PUBLIC_URL + path, body) if signature is None else signature
        headers = {"HTTP_X_TWILIO_SIGNATURE": sig} if sig else {}
        return self.client.post(path, body, content_type="application/x-www-form-urlencoded", **headers)

    def twiml(self, url: str, body: str) -> ET.Element:
        response = self.post(url, body)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/xml")
        root = ET.fromstring(response.content)
        assert root.tag == "Response"
        return root

    def start(self) -> ET.Element:
        return self.twiml(f"{settings.PUBLIC_URL}/hooks/voice/{self.channel.pk}/", fixture("incoming_call.form"))

    def press(self, action: str, digits: str) -> ET.Element:
        return self.twiml(action, fixture("gather_digits.form", digits=digits))


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "Caller", "fixture", "make_voice_channel", "query", "verbs"]
