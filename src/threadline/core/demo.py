"""`threadline serve --demo`: a living inbox for a newcomer.

One demo workspace with agents, two teams, a channel of each common kind (email, web chat, WhatsApp, SMS,
Telegram, LINE and the API) and a dozen conversations from customers writing in English, Hebrew, Persian,
Thai and Czech on those channels: some new, some answered and waiting, some solved, and one customer who
wrote first by email and then by SMS (one contact, two identities, one thread). Everything goes through the
same actions as real traffic. Loading is idempotent and atomic. The server's first admin gets a seat in the
demo, and it becomes their default workspace, so the first sign-in opens the demo inbox.

Replies are "delivered" by a simulated provider (the demo channels' credentials are placeholders), so the
inbox shows them as delivered instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.base import DeliveryStatusUpdate, InboundMessage
from threadline.channels.models import Channel, Delivery
from threadline.config import env
from threadline.contacts.actions import do_add_identity
from threadline.conversations.actions import (
    do_add_note,
    do_record_delivery_status,
    do_send_reply,
    do_update_conversation,
    receive_inbound_message,
)
from threadline.conversations.models import Conversation, Message
from threadline.core.bootstrap import DEFAULT_ADMIN_EMAIL
from threadline.core.errors import Conflict
from threadline.core.time import now
from threadline.tenancy.actions import (
    do_add_agent,
    do_create_team,
    do_create_workspace,
    do_set_default_workspace,
)
from threadline.tenancy.models import Membership, Role, Team, User, Workspace

DEMO_NAME = "Threadline demo: Northwind Gadgets"
DEMO_SLUG = "demo"

AGENTS = {  # key: (email, name, role)
    "emma": ("emma@demo.threadline.example", "Emma Clarke", Role.ADMIN),
    "noa": ("noa@demo.threadline.example", "Noa Levi", Role.AGENT),
    "arash": ("arash@demo.threadline.example", "Arash Karimi", Role.AGENT),
    "ploy": ("ploy@demo.threadline.example", "Ploy Srisuk", Role.AGENT),
    "tomas": ("tomas@demo.threadline.example", "Tomáš Novák", Role.AGENT),
    "sam": ("sam@demo.threadline.example", "Sam Reviewer", Role.LIGHT_AGENT),
}
TEAMS = {"Billing": ("arash", "tomas", "noa"), "Technical": ("emma", "ploy", "noa")}
# key: (kind, name, config). Placeholder credentials: the demo never calls a provider (see _simulate_delivery).
CHANNELS: dict[str, tuple[str, str, dict[str, object]]] = {
    "email": ("email", "Support email", {"address": "support@northwind.example", "display_name": "Northwind Support"}),
    "webchat": ("webchat", "Web chat", {"title": "Northwind Gadgets", "identity_verification": False}),
    "whatsapp": ("whatsapp", "WhatsApp", {"phone_number_id": "demo-104729385", "access_token": "demo-placeholder",
                                          "app_secret": "demo-placeholder", "verify_token": "demo-placeholder"}),
    "sms": ("sms", "SMS", {"account_sid": "ACdemo", "auth_token": "demo-placeholder", "from_number": "+15005550006"}),
    "telegram": ("telegram", "Telegram bot", {"bot_token": "000000:demo-placeholder"}),
    "line": ("line", "LINE", {"channel_secret": "demo-placeholder", "channel_access_token": "demo-placeholder"}),
    "api": ("api", "Customer portal (API)", {}),
}


@dataclass(frozen=True)
class Step:
    """One message: `in` from the customer (optionally from another identity), `out` an agent's reply,
    `note` an internal note."""

    kind: str
    text: str
    agent: str = ""
    sender_kind: str = ""
    sender_address: str = ""
    channel: str = ""  # another channel of the demo (default: the scene's)


@dataclass(frozen=True)
class Scene:
    key: str
    channel: str  # a key of CHANNELS
    name: str
    sender_kind: str
    address: str
    subject: str
    steps: tuple[Step, ...]
    status: str = ""
    priority: str = ""
    team: str = ""
    assignee: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def inbound(text: str, **other_identity: str) -> Step:
    return Step("in", text, **other_identity)


def reply(agent: str, text: str) -> Step:
    return Step("out", text, agent=agent)


def note(agent: str, text: str) -> Step:
    return Step("note", text, agent=agent)


SCENES: tuple[Scene, ...] = (
    Scene(
        "damaged-tablet", "email", "Olivia Bennett", "email", "olivia.bennett@example.com",
        "Order #4821 arrived with a cracked screen",
        (
            inbound("Hi, my order #4821 (the Aria 11 tablet) arrived this morning and the screen is cracked in the "
                    "top left corner. The box looked fine from the outside. Can you send a replacement?"),
            reply("emma", "Hi Olivia, I'm so sorry about that! Could you send a photo of the screen and of the "
                          "shipping label? I'll ship a replacement by express as soon as I have them; there is "
                          "no need to return the broken one first."),
            inbound("Here you go, I've sent both photos to returns@northwind.example. Thanks for the quick answer!"),
            reply("emma", "Got them, thank you. Your replacement is on its way, tracking number NW-99310452. "
                          "Enjoy the tablet!"),
        ),
        status="solved", team="Technical", assignee="emma", tags=("damaged", "replacement"),
    ),
    Scene(
        "login-loop", "webchat", "Marcus Reed", "visitor", "v-7f3c2a91e4", "Can't sign in after a password reset",
        (
            inbound("I reset my password twice today but the app still says 'invalid credentials'. I'm on "
                    "Android 14 with app version 3.8.2. This is urgent: I need my invoices for an audit tomorrow."),
            note("emma", "Auth logs show the reset tokens expiring at once: clock skew on auth-2. Escalated to "
                         "engineering; I'll send Marcus his invoices by email in the meantime."),
        ),
        status="open", priority="high", team="Technical", assignee="emma",
    ),
    Scene(
        "double-charge", "whatsapp", "דנה לוי", "whatsapp", "+972 54-555-0123", "",
        (
            inbound("שלום, חויבתי פעמיים על אותה הזמנה (מספר 5530). אפשר לבדוק ולהחזיר את החיוב הכפול?"),
            reply("noa", "היי דנה, בדקתי ואכן יש חיוב כפול. ביטלתי את החיוב השני, והזיכוי יופיע בכרטיס "
                         "האשראי תוך 3–5 ימי עסקים. מצטערת על אי הנוחות!"),
        ),
        status="pending", team="Billing", assignee="noa", tags=("refund",),
    ),
    Scene(
        "eilat-shipping", "email", "יוסי מזרחי", "email", "yossi.mizrahi@example.co.il", "משלוח לאילת",
        (inbound("ערב טוב, האם אתם שולחים גם לאילת? ואם כן, כמה זמן לוקח המשלוח ומה העלות?"),),
    ),
    Scene(
        "lost-parcel", "telegram", "سارا احمدی", "telegram", "582301774", "",
        (
            inbound("سلام، سفارش من با شماره ۷۷۱۲ ده روز پیش ارسال شده ولی هنوز به دستم نرسیده. کد رهگیری هم "
                    "کار نمی‌کند. لطفاً راهنمایی کنید."),
            reply("arash", "سلام سارا جان، بسته شما در گمرک مانده بود و امروز ترخیص شد. کد رهگیری جدید: "
                           "NW-44821907. تا دو روز دیگر به دستتان می‌رسد."),
            inbound("رسید، خیلی ممنون از پیگیری‌تان!"),
        ),
        status="solved", assignee="arash", tags=("shipping",),
    ),
    Scene(
        "official-invoice", "email", "رضا کریمی", "email", "reza.karimi@example.ir", "فاکتور رسمی",
        (inbound("با سلام، برای خرید شرکتی‌مان به فاکتور رسمی با شناسه ملی شرکت نیاز داریم. چطور می‌توانم "
                 "آن را دریافت کنم؟"),),
        status="open", team="Billing",
    ),
    Scene(
        "wrong-colour", "line", "สมชาย ใจดี", "line", "U4af1c2d9e8b7a6f5", "",
        (
            inbound("สวัสดีครับ ผมได้รับสินค้าไม่ตรงกับที่สั่ง สั่งหูฟังสีดำแต่ได้สีขาวมา ขอเปลี่ยนได้ไหมครับ"),
            reply("ploy", "สวัสดีค่ะคุณสมชาย ขออภัยในความผิดพลาดค่ะ เราจะส่งหูฟังสีดำไปให้ภายในวันพรุ่งนี้ "
                          "และจะมีพนักงานไปรับสีขาวคืนที่บ้านค่ะ"),
        ),
        status="pending", assignee="ploy", tags=("wrong-item",),
    ),
    Scene(
        "new-address", "whatsapp", "นภา วงศ์สวัสดิ์", "whatsapp", "+66 81 555 0199", "",
        (inbound("ขอเปลี่ยนที่อยู่จัดส่งสำหรับคำสั่งซื้อ 6120 ได้ไหมคะ ย้ายไปอยู่เชียงใหม่แล้วค่ะ"),),
        priority="high",
    ),
    Scene(
        "charger-claim", "email", "Jan Svoboda", "email", "jan.svoboda@example.cz", "Reklamace: nefunkční nabíječka",
        (
            inbound("Dobrý den, nabíječka, kterou jsem koupil před měsícem, přestala fungovat. Kontrolka nesvítí "
                    "a telefon se nenabíjí. Jak mám postupovat při reklamaci?"),
            reply("tomas", "Dobrý den, pane Svobodo, omlouváme se za potíže. Posíláme vám novou nabíječku a "
                           "přikládáme štítek pro bezplatné vrácení té vadné."),
            inbound("Nová nabíječka dorazila a funguje. Děkuji za rychlé vyřízení!"),
        ),
        status="solved", assignee="tomas", tags=("warranty",),
    ),
    Scene(
        "invoice-vat", "email", "Petra Dvořáková", "email", "petra.dvorakova@example.cz", "Dotaz k faktuře",
        (
            inbound("Dobrý den, na faktuře 2024-0815 chybí naše DIČ. Můžete nám prosím poslat opravenou fakturu?"),
            inbound("Dobrý den, ještě doplňuji přes SMS: DIČ je CZ12345678. Děkuji, Petra Dvořáková",
                    sender_kind="phone", sender_address="+420 601 555 123", channel="sms"),
        ),
        status="open", team="Billing", assignee="tomas",
    ),
    Scene(
        "csv-export", "api", "Aisha Khan", "external", "crm-88412", "Feature request: export to CSV",
        (
            inbound("Is there a way to export my whole order history to CSV? I need it for my bookkeeping software."),
            reply("emma", "Not yet, but it's planned for the next release and I've added your vote. In the "
                          "meantime I've emailed you a CSV of all your orders."),
        ),
        status="solved", priority="low", tags=("feature-request",),
    ),
    Scene(
        "refund-wait", "email", "Liam O'Connor", "email", "liam.oconnor@example.ie", "Where is my refund?",
        (inbound("You approved my return two weeks ago (RMA 30917) but I still haven't seen the refund. "
                 "Could you check?"),),
        status="open", team="Billing",
    ),
)


def _simulate_delivery(message: Message) -> None:
    """The demo's stand-in provider accepts the reply and reports it delivered."""
    provider_id = f"demo-out-{message.pk}"
    Delivery.objects.filter(message=message).update(state=Delivery.State.SENT, attempts=1)
    Message.objects.filter(pk=message.pk).update(provider_message_id=provider_id, sent_at=now())
    do_record_delivery_status(message.channel, DeliveryStatusUpdate(provider_id, "delivered"))


def _play(scene: Scene, channels: dict[str, Channel], agents: dict[str, Membership],
          teams: dict[str, Team]) -> Conversation:
    conversation: Conversation | None = None
    for number, step in enumerate(scene.steps, start=1):
        channel = channels[step.channel or scene.channel]
        if step.kind == "in":
            if step.sender_kind and conversation is not None:  # the same customer, from another identity
                do_add_identity(conversation.contact, step.sender_kind, step.sender_address, verified=True,
                                source="demo")
            message = receive_inbound_message(channel, InboundMessage(
                provider_message_id=f"demo-{scene.key}-{number}",
                sender_kind=step.sender_kind or scene.sender_kind,
                sender_address=step.sender_address or scene.address,
                sender_name=scene.name, sender_verified=True, text=step.text, subject=scene.subject,
            ))
            conversation = message.conversation
        elif step.kind == "out":
            assert conversation is not None
            _simulate_delivery(do_send_reply(agents[step.agent], conversation, step.text, channel=channel))
        else:
            assert conversation is not None
            do_add_note(agents[step.agent], conversation, step.text)
    assert conversation is not None
    conversation.refresh_from_db()
    changes: dict[str, object] = {}
    if scene.status:
        changes["status"] = scene.status
    if scene.priority:
        changes["priority"] = scene.priority
    if scene.team:
        changes["team"] = teams[scene.team]
    if scene.assignee:
        changes["assignee"] = agents[scene.assignee]
    if scene.tags:
        changes["tags"] = list(scene.tags)
    if changes:
        do_update_conversation(agents["emma"], conversation, **changes)  # type: ignore[arg-type]
    return conversation


def do_load_demo() -> Workspace | None:
    """Create the demo workspace and its conversations; None when it exists already. Caller owns the
    transaction."""
    if Workspace.objects.filter(name=DEMO_NAME).exists():
        return None
    workspace = do_create_workspace(DEMO_NAME, slug=DEMO_SLUG, default_region="IL")
    agents = {
        key: do_add_agent(workspace, email, role=role, name=name) for key, (email, name, role) in AGENTS.items()
    }
    teams = {name: do_create_team(workspace, name, [agents[k] for k in keys]) for name, keys in TEAMS.items()}
    owner = User.objects.filter(email=(env.get("ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL).strip().lower()).first()
    if owner is not None:  # the server's first admin gets a seat, and their first sign-in opens the demo inbox
        try:
            do_add_agent(workspace, owner.email, role=Role.ADMIN)
        except Conflict:
            pass
        do_set_default_workspace(owner, workspace)
    channels = {key: do_create_channel(agents["emma"], kind, name, config)
                for key, (kind, name, config) in CHANNELS.items()}
    for scene in SCENES:
        _play(scene, channels, agents, teams)
    return workspace


def load_demo() -> list[str]:
    """Load the demo (once) and return the lines to show the operator."""
    with transaction.atomic():
        workspace = do_load_demo()
    if workspace is None:
        return [f"Demo workspace {DEMO_NAME!r} is already loaded."]
    count = Conversation.objects.filter(workspace=workspace).count()
    lines = [f"Loaded demo workspace {workspace.name!r} ({workspace.slug}) with {count} conversations."]
    owner = User.objects.filter(default_workspace=workspace).order_by("id").first()
    if owner is not None:  # their sign-in (or the setup link printed above) opens the demo inbox
        lines.append(f"Sign in as {owner.email} at {settings.PUBLIC_URL}/login: the demo inbox opens first.")
    return lines
