"""Help centers with content for the help center's tests: rows as knowledge stores them (body rendered and
sanitized by knowledge.rendering), published or not."""

from __future__ import annotations

from django.db import transaction

from threadline.core.time import now
from threadline.knowledge import rendering
from threadline.knowledge.models import Article, ArticleTranslation, Category, HelpCenter, Section, State
from threadline.tenancy.models import Brand, Membership


def make_center(admin: Membership, slug: str, *, languages: tuple[str, ...] = ("en", "he"),
                name: str = "Acme Help", is_public: bool = True) -> HelpCenter:
    brand = Brand.objects.filter(workspace_id=admin.workspace_id).order_by("-is_default", "pk").first() or \
        Brand.objects.create(workspace_id=admin.workspace_id, name=name, is_default=True)
    return HelpCenter.objects.create(workspace_id=admin.workspace_id, brand=brand, slug=slug, name=name,
                                     default_language=languages[0], languages=list(languages), is_public=is_public)


def make_section(center: HelpCenter, category_titles: dict[str, str], titles: dict[str, str]) -> Section:
    category = Category.objects.create(workspace_id=center.workspace_id, help_center=center, titles=category_titles)
    return Section.objects.create(workspace_id=center.workspace_id, category=category, titles=titles)


def make_article(section: Section, texts: dict[str, tuple[str, str]], *, internal_only: bool = False,
                 states: dict[str, str] | None = None) -> Article:
    """An article with a translation per language of `texts` ({language: (title, markdown)}), published unless
    `states` says otherwise."""
    with transaction.atomic():
        article = Article.objects.create(workspace_id=section.workspace_id, section=section,
                                         internal_only=internal_only)
        for language, (title, body) in texts.items():
            html = rendering.to_html(body, "markdown")
            state = (states or {}).get(language, State.PUBLISHED)
            ArticleTranslation.objects.create(
                workspace_id=section.workspace_id, article=article, language=language, title=title,
                slug=rendering.slugify(title), body_source=body, body_html=html, body_text=rendering.to_text(html),
                state=state, published_at=now() if state == State.PUBLISHED else None)
    return article
