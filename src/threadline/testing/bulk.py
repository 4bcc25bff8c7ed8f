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

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import DateTimeField, Model

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


class _Rows:
    """Plain INSERTs of one model's rows (`executemany` of tuples on SQLite, COPY on PostgreSQL): the given columns
    per row, every other column its field's default, computed once. At a million conversations `Model(...)` and `bulk_create`'s preparation of
    every field of every row were most of the seeding time (about 7,000 rows/s on a loaded machine)."""

    def __init__(self, model: type[Model], columns: tuple[str, ...]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        given = [fields[c] for c in columns]
        rest = [f for f in model._meta.concrete_fields if f.attname not in columns and not f.primary_key]
        constants = []
        for f in rest:
            value = f.get_db_prep_save(f.get_default(), connection)
            if value is None and not f.null:
                raise ValueError(f"{model.__name__}.{f.name} needs a value: it has no default")
            constants.append(value)
        self.constants = tuple(constants)
        adapt = connection.ops.adapt_datetimefield_value
        self.adapters = [adapt if isinstance(f, DateTimeField) else None for f in given]
        names = ", ".join(connection.ops.quote_name(f.column) for f in given + rest)
        marks = ", ".join(["%s"] * (len(given) + len(rest)))
        self.sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) VALUES ({marks})"
        self.copy = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
        self.model = model

    def insert(self, rows: list[tuple[object, ...]]) -> None:
        adapters, constants = self.adapters, self.constants
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # COPY: row-by-row INSERTs were slower than bulk_create there
                with cursor.cursor.copy(self.copy) as copy:
                    for row in rows:
                        copy.write_row(row + constants)
                return
            cursor.executemany(self.sql, [
                tuple(a(v) if a is not None and v is not None else v for a, v in zip(adapters, row, strict=True))
                + constants for row in rows])

    def next_id(self) -> int:
        return (self.model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1


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
    stamps = ("created_at", "updated_at")
    contact_rows = _Rows(Contact, ("id", "workspace_id", "name", "name_key", *stamps))
    identity_rows = _Rows(ContactIdentity, ("id", "workspace_id", "contact_id", "kind", "address", "verified",
                                            "source", "match_key", *stamps))
    conversation_rows = _Rows(Conversation, (
        "id", "workspace_id", "contact_id", "subject", "status", "language", "origin_channel_id",
        "last_inbound_channel_id", "last_message_at", "last_inbound_at", "assignee_id", "first_response_at",
        "solved_at", *stamps))
    message_rows = _Rows(Message, (
        "workspace_id", "conversation_id", "channel_id", "direction", "author_kind", "author_contact_id",
        "author_membership_id", "identity_id", "provider_message_id", "text", "language", "status", *stamps))
    first_contact, next_identity = contact_rows.next_id(), identity_rows.next_id()
    identity_of: dict[int, int] = {}  # contact → its email identity
    for start, stop in _batches(contacts_total, batch):
        contacts, identities = [], []
        for i in range(first_contact + start, first_contact + stop):
            contacts.append((i, workspace_id, f"Customer {i}", name_key(f"Customer {i}"), end - span, end - span))
            for kind, address in (("email", email_of(i)), *((("phone", phone_of(i)),) if i % 3 == 0 else ())):
                if kind == "email":
                    identity_of[i] = next_identity
                identities.append((next_identity, workspace_id, i, kind, address, True, "seed",
                                   match_key(kind, address), end - span, end - span))
                next_identity += 1
        with transaction.atomic():
            contact_rows.insert(contacts)
            identity_rows.insert(identities)
    contact_ids = list(range(first_contact, first_contact + contacts_total))
    languages = list(TEXTS)
    message_count = 0
    first_conversation = conversation_rows.next_id()
    done_statuses = (Status.SOLVED, Status.CLOSED)
    for start, stop in _batches(conversations, batch):
        rows, messages = [], []
        for n in range(start, stop):
            pk = first_conversation + n
            created = end - span + span * (n / conversations) - dt.timedelta(minutes=rng.randint(0, 60))
            language = languages[n % len(languages)]
            status = str(rng.choice(LIVE_MIX if n >= conversations - backlog else DONE_MIX))
            channel_id = channels[n % len(channels)].pk
            contact_id = contact_ids[n % len(contact_ids)]
            count = max(1, messages_per + rng.randint(-1, 1))
            last = created + dt.timedelta(minutes=7 * (count - 1))
            rows.append((pk, workspace_id, contact_id, TEXTS[language][n % 3][:60].format(n=n), status, language,
                         channel_id, channel_id, last, last, agent.pk if n % 4 == 0 else None,
                         created + dt.timedelta(minutes=7) if count > 1 else None,
                         last if status in done_statuses else None, created, last))
            for k in range(count):
                inbound = k % 2 == 0
                at = created + dt.timedelta(minutes=7 * k)
                messages.append((
                    workspace_id, pk, channel_id, str(Direction.INBOUND if inbound else Direction.OUTBOUND),
                    str(AuthorKind.CONTACT if inbound else AuthorKind.AGENT), contact_id if inbound else None,
                    None if inbound else agent.pk, identity_of.get(contact_id) if inbound else None,
                    f"seed-{n}-{k}" if inbound else "",
                    TEXTS[language][(n + k) % 3].format(n=n) if inbound else REPLIES[language],
                    language, "received" if inbound else "delivered", at, at))
        with transaction.atomic():
            conversation_rows.insert(rows)
            message_rows.insert(messages)
        message_count += len(messages)
        if progress:
            progress(stop)
    with connection.cursor() as cursor:  # PostgreSQL: the id sequences past the ids given here
        for statement in connection.ops.sequence_reset_sql(no_style(), [Contact, ContactIdentity, Conversation]):
            cursor.execute(statement)
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
