"""Test helpers for outreach (also used by other domains' tests): contacts with identities, a campaign sent in
one call, Twilio's Messages API on loopback answering with its documented response and a fresh sid each time."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from django.db import transaction

from threadline.channels.fake_provider import Call, FakeProvider
from threadline.contacts.actions import do_add_identity, do_create_contact
from threadline.contacts.models import Contact
from threadline.outreach.actions import do_create_campaign, do_save_settings, do_start_campaign
from threadline.outreach.models import Campaign, OutreachDelivery
from threadline.tenancy.models import Membership

ACCOUNT_SID = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def twilio_provider(send_response: str, *, refuse: set[str] | None = None, refusal: str = "",
                    latency: float = 0.0) -> FakeProvider:
    """Twilio's Messages API: `send_response` (its documented JSON, `{sid}` and the number filled per call);
    numbers in `refuse` get `refusal` (Twilio's documented 400 error) instead. `latency`: seconds each answer
    takes (a real provider's tens of milliseconds, for `bench/outreach.py`); `flight["most"]` is then the most
    requests it had in hand at once."""
    counter, lock, flight = itertools.count(1), threading.Lock(), {"now": 0, "most": 0}
    provider = FakeProvider().start()
    provider.flight = flight  # type: ignore[attr-defined]

    def answer(call: Call) -> tuple[int, bytes, dict[str, str]]:
        with lock:
            flight["now"] += 1
            flight["most"] = max(flight["most"], flight["now"])
        if latency:
            time.sleep(latency)
        with lock:
            flight["now"] -= 1
            number = next(counter)
        to = call.form().get("To", [""])[0]
        if refuse and to in refuse:
            return 400, refusal.encode(), {"Content-Type": "application/json"}
        body = send_response.replace("{sid}", f"{number:032d}").replace("+14155552671", to)
        return 201, body.encode(), {"Content-Type": "application/json"}

    provider.handle("POST", MESSAGES_PATH, answer)
    return provider


def contact(admin: Membership, name: str, *, phone: str = "", email: str = "", whatsapp: str = "",
            **fields: Any) -> Contact:
    with transaction.atomic():
        found = do_create_contact(admin.workspace, name=name, **fields)
        for kind, address in (("phone", phone), ("email", email), ("whatsapp", whatsapp)):
            if address:
                do_add_identity(found, kind, address, suggest=False)
    return found


def campaign(admin: Membership, text: str = "Hello {{name}}", *, start: bool = True, **fields: Any) -> Campaign:
    with transaction.atomic():
        made = do_create_campaign(admin.workspace, actor=admin, name=fields.pop("name", "Spring"),
                                  messages=fields.pop("messages", {"en": text}), **fields)
        if start:
            made = do_start_campaign(admin, made)
    return made


def settings(admin: Membership, **fields: Any) -> None:
    with transaction.atomic():
        do_save_settings(admin, **{"quiet_start": None, "quiet_end": None, **fields})


def rows(made: Campaign) -> dict[str, OutreachDelivery]:
    """The campaign's recipient rows by contact name."""
    return {r.contact.name: r for r in OutreachDelivery.objects.filter(campaign=made).select_related("contact")}
