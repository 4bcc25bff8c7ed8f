"""Bot settings, a team to hand over to, and published articles for the bot's tests."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from threadline.bot.actions import do_save_settings
from threadline.bot.models import BotSession, BotSettings
from threadline.conversations.models import AuthorKind, Conversation, Message
from threadline.routing.actions import do_save_rule
from threadline.tenancy.actions import do_create_team
from threadline.tenancy.models import Membership, Team


def enable_bot(admin: Membership, channel_id: int | None = None, **fields: Any) -> BotSettings:
    with transaction.atomic():
        return do_save_settings(admin.workspace, None, channel_id=channel_id, enabled=True, **fields)


def support_team(admin: Membership) -> Team:
    """A team every conversation is routed to (manual policy: it waits in the team's queue)."""
    with transaction.atomic():
        team = do_create_team(admin.workspace, "Support", [admin])
        do_save_rule(admin.workspace, None, name="everything", team_ids=[team.pk])
    return team


def bot_turns(conversation: Conversation) -> list[Message]:
    return list(Message.objects.filter(conversation=conversation, author_kind=AuthorKind.BOT).order_by("id"))


def session_of(conversation: Conversation) -> BotSession:
    return BotSession.objects.get(conversation=conversation)


def publish_article(admin: Membership, language: str, title: str, body: str) -> Any:
    """A published article of the workspace's brand help center (created on first use), through the knowledge
    domain's own actions; the caller runs the jobs so the search index has it."""
    from threadline.knowledge.actions import (
        do_create_article,
        do_publish,
        do_save_category,
        do_save_help_center,
        do_save_section,
    )
    from threadline.knowledge.models import HelpCenter, Section
    from threadline.tenancy.models import Brand

    with transaction.atomic():
        section = Section.objects.filter(workspace_id=admin.workspace_id).first()
        if section is None:
            brand = Brand.objects.filter(workspace_id=admin.workspace_id).order_by("id").first()
            center = HelpCenter.objects.filter(brand=brand).first() or do_save_help_center(
                admin, None, brand=brand, slug="acme", name="Acme help",
                languages=["en", "he", "fa", "th", "cs"])
            category = do_save_category(admin, None, help_center=center, titles={"en": "Orders", "he": "הזמנות"})
            section = do_save_section(admin, None, category=category, titles={"en": "Shipping", "he": "משלוחים"})
        translation = do_create_article(admin, section=section, language=language, title=title, body=body)
        return do_publish(admin, translation)


def work() -> int:
    """Run the jobs as the embedded worker does (its own thread in socket tests: `in_worker_thread(work)`)."""
    from threadline.jobs.worker import Worker

    return Worker(worker_id="test:bot").run_until_idle(300)


async def bot_answers(tab: Any, client_id: str, text: str, choice: str = "") -> dict[str, Any]:
    """The visitor writes (or presses a button) in the widget's socket `tab`; the worker runs; the bot's next
    message as the widget receives it."""
    from threadline.realtime.testkit import in_worker_thread, receive_until

    await tab.send_json_to({"type": "message", "client_id": client_id, "text": text,
                            **({"choice": choice} if choice else {})})
    await receive_until(tab, lambda m: m["type"] == "ack" and m["client_id"] == client_id)
    await in_worker_thread(work)
    found = await receive_until(tab, lambda m: m["type"] == "message" and m["message"]["author_kind"] == "bot")
    return found["message"]
