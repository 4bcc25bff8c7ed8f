"""A help center with a category and a section, made through the actions as an admin would."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from threadline.jobs.worker import Worker
from threadline.knowledge.actions import do_save_category, do_save_help_center, do_save_section
from threadline.knowledge.models import Category, HelpCenter, Section
from threadline.tenancy.models import Brand, Membership


def drain() -> None:
    """Run the event pipeline (the search subscriber indexes articles)."""
    Worker(worker_id="test:knowledge:0").run_until_idle()


@dataclass(frozen=True)
class Site:
    help_center: HelpCenter
    category: Category
    section: Section


def make_site(admin: Membership, slug: str = "") -> Site:
    with transaction.atomic():
        brand = Brand.objects.get(workspace_id=admin.workspace_id, is_default=True)
        help_center = do_save_help_center(admin, None, brand=brand, slug=slug or admin.workspace.slug,
                                          name="Help", default_language="en", languages=["he", "fa", "th", "cs"])
        category = do_save_category(admin, None, help_center=help_center,
                                    titles={"en": "Orders", "he": "הזמנות"})
        section = do_save_section(admin, None, category=category, titles={"en": "Shipping", "he": "משלוחים"})
    return Site(help_center, category, section)
