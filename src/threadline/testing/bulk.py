"""Seeding a workspace at size (hundreds of thousands to millions of conversations) for benchmarks: contacts
with email and phone identities, conversations across statuses and channels, and their messages in five
languages, written with `bulk_create` in batches, bypassing events and jobs (nothing downstream needs to run
for read benchmarks). Not for production data: use the API or the importers for that."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Model

from threadline.channels.models import Channel
from threadline.contacts.identities import match_key, name_key
from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message, Status
from threadline.core.time import now
from threadline.tenancy.models import Membership

TEXTS = {
    "en": ["My order {n} has not arrived yet, can you check the tracking?",
           "I was charged twice for invoice {n}, please refund one payment.",
           "The app logs me out every time I open settings on my phone."],
    "he": ["ההזמנה שלי {n} עדיין לא הגיעה, אפשר לבדוק את המשלוח?",
           "חויבתי פעמיים על חשבונית {n}, בבקשה להחזיר תשלום אחד.",
           "האפליקציה מנתקת אותי בכל פעם שאני פותח את ההגדרות."],
    "fa": ["سفارش من {n} هنوز نرسیده است، لطفا پیگیری کنید.",
           "برای فاکتور {n} دو بار از من پول کسر شده است.",
           "برنامه هر بار که تنظیمات را باز می\u200cکنم مرا بیرون می\u200cاندازد."],
    "th": ["คำสั่งซื้อ {n} ของฉันยังไม่มาถึง ช่วยตรวจสอบการจัดส่งได้ไหม",
           "ฉันถูกเรียกเก็บเงินสองครั้งสำหรับใบแจ้งหนี้ {n}",
           "แอปออกจากระบบทุกครั้งที่ฉันเปิดการตั้งค่า"],
    "cs": ["Moje objednávka {n} ještě nedorazila, můžete zkontrolovat zásilku?",
           "Za fakturu {n} mi byla platba stržena dvakrát, prosím o vrácení.",
           "Aplikace mě odhlásí pokaždé, když otevřu nastavení v telefonu."],
}
REPLIES = {"en": "Thank you, we are looking into it.", "he": "תודה, אנחנו בודקים.", "fa": "ممنون، در حال بررسی هستیم.",
           "th": "ขอบคุณ เรากำลังตรวจสอบ", "cs": "Děkujeme, prověřujeme to."}
LIVE_MIX = [Status.NEW, Status.OPEN, Status.OPEN, Status.OPEN, Status.PENDING, Status.ON_HOLD]
DONE_MIX = [Status.SOLVED, Status.CLOSED, Status.CLOSED, Status.CLOSED]


@dataclass
class Seeded:
    conversations: int
    messages: int
    contacts: int
    sample_conversation_ids: list[int]
    sample_contact_ids: list[int]
    sample_emails: list[str]
    sample_phones: list[str]


def seed(agent: Membership, channels: list[Channel], conversations: int, **options: object) -> Seeded:
    """`conversations` conversations (about `messages_per` messages each, alternating customer and agent) for
    `conversations // conversations_per_contact` contacts with an email identity each and a phone for every
    third, spread over the last two years; the newest `backlog` are the live queue, the rest solved or closed."""
    with given_times():
        return _seed(agent, channels, conversations, **options)  # type: ignore[arg-type]


def email_of(i: int) -> str:
    return f"customer{i}@example-{i % 97}.com"


def phone_of(i: int) -> str:
    return f"+97250{i % 10_000_000:07d}"


def _batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(total, start + size)


def _seed(agent: Membership, channels: list[Channel], conversations: int, *, messages_per: int = 3,
         conversations_per_contact: int = 2, backlog: int | None = None, batch: int = 5000, seed_value: int = 7,
         progress: Callable[[int], None] | None = None) -> Seeded:
    rng = random.Random(seed_value)
    # history is solved or closed; the newest `backlog` (1%, 100 to 5,000) are the live queue, as in a real desk
    backlog = backlog if backlog is not None else min(5000, max(100, conversations // 100))
    workspace_id = agent.workspace_id
    contacts_total = max(1, conversations // conversations_per_contact)
    end = now()
    span = dt.timedelta(days=730)
    first_contact = (Contact.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    for start, stop in _batches(contacts_total, batch):
        with transaction.atomic():
            made = Contact.objects.bulk_create([
                Contact(workspace_id=workspace_id, name=f"Customer {i}", name_key=name_key(f"Customer {i}"),
                        created_at=end - span, updated_at=end - span)
                for i in range(first_contact + start, first_contact + stop)])
            identities = []
            for offset, contact in enumerate(made):
                i = first_contact + start + offset
                address = email_of(i)
                identities.append(ContactIdentity(workspace_id=workspace_id, contact=contact, kind="email",
                                                  address=address, verified=True, source="seed",
                                                  match_key=match_key("email", address), created_at=end - span,
                                                  updated_at=end - span))
                if i % 3 == 0:
                    phone = phone_of(i)
                    identities.append(ContactIdentity(workspace_id=workspace_id, contact=contact, kind="phone",
                                                      address=phone, verified=True, source="seed",
                                                      match_key=match_key("phone", phone), created_at=end - span,
                                                      updated_at=end - span))
            ContactIdentity.objects.bulk_create(identities)
    contact_ids = list(Contact.objects.filter(workspace_id=workspace_id, id__gte=first_contact)
                       .order_by("id").values_list("id", flat=True))
    identity_of = dict(ContactIdentity.objects.filter(workspace_id=workspace_id, kind="email",
                                                       contact_id__gte=first_contact)
                       .values_list("contact_id", "id"))
    languages = list(TEXTS)
    message_count = 0
    for start, stop in _batches(conversations, batch):
        rows, plans = [], []
        for n in range(start, stop):
            created = end - span + span * (n / conversations) - dt.timedelta(minutes=rng.randint(0, 60))
            language = languages[n % len(languages)]
            status = rng.choice(LIVE_MIX if n >= conversations - backlog else DONE_MIX)
            channel = channels[n % len(channels)]
            contact_id = contact_ids[n % len(contact_ids)]
            count = max(1, messages_per + rng.randint(-1, 1))
            last = created + dt.timedelta(minutes=7 * (count - 1))
            rows.append(Conversation(
                workspace_id=workspace_id, contact_id=contact_id, subject=TEXTS[language][n % 3][:60].format(n=n),
                status=status, language=language, origin_channel=channel, last_inbound_channel=channel,
                last_message_at=last, last_inbound_at=last, created_at=created, updated_at=last,
                assignee_id=agent.pk if n % 4 == 0 else None,
                first_response_at=created + dt.timedelta(minutes=7) if count > 1 else None,
                solved_at=last if status in (Status.SOLVED, Status.CLOSED) else None))
            plans.append((language, channel, contact_id, count, created, n))
        with transaction.atomic():
            made = Conversation.objects.bulk_create(rows)
            messages = []
            for conversation, (language, channel, contact_id, count, created, n) in zip(made, plans, strict=True):
                for k in range(count):
                    inbound = k % 2 == 0
                    messages.append(Message(
                        workspace_id=workspace_id, conversation_id=conversation.pk, channel=channel,
                        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                        author_kind=AuthorKind.CONTACT if inbound else AuthorKind.AGENT,
                        author_contact_id=contact_id if inbound else None,
                        author_membership_id=None if inbound else agent.pk,
                        identity_id=identity_of.get(contact_id) if inbound else None,
                        provider_message_id=f"seed-{n}-{k}" if inbound else "",
                        text=TEXTS[language][(n + k) % 3].format(n=n) if inbound else REPLIES[language],
                        language=language, status="received" if inbound else "delivered",
                        created_at=created + dt.timedelta(minutes=7 * k),
                        updated_at=created + dt.timedelta(minutes=7 * k)))
            Message.objects.bulk_create(messages)
        message_count += len(messages)
        if progress:
            progress(stop)
    ids = list(Conversation.objects.filter(workspace_id=workspace_id).order_by("-id")
               .values_list("id", flat=True)[:conversations])
    sample = rng.sample(ids, min(500, len(ids)))
    contact_sample = rng.sample(contact_ids, min(500, len(contact_ids)))
    numbers = [first_contact + rng.randrange(contacts_total) for _ in range(500)]
    return Seeded(conversations=conversations, messages=message_count, contacts=contacts_total,
                  sample_conversation_ids=sample, sample_contact_ids=contact_sample,
                  sample_emails=[email_of(i) for i in numbers],
                  sample_phones=[phone_of(i) for i in numbers if i % 3 == 0] or [phone_of(3)])


@contextlib.contextmanager
def given_times(*models: type[Model]) -> Iterator[None]:
    """`auto_now`/`auto_now_add` off for these models (by default the seeded ones), so rows keep the times
    they are given (spread over two years here, over a month in `analytics.testing`)."""
    fields = [f for model in (models or (Contact, ContactIdentity, Conversation, Message))
              for f in model._meta.concrete_fields
              if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add
