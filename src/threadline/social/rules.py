"""Which of the workspace's social rules hold for an item, and why, in words an agent reads on the item."""

from __future__ import annotations

from django.utils.translation import gettext as _

from threadline.social.models import PublicItem, SocialRule


def why_rule_holds(rule: SocialRule, item: PublicItem) -> str | None:
    """The conditions of `rule` as met by `item` ("category is complaint; reach 12000 ≥ 10000"), None when
    one does not hold. A rule without conditions holds for every item."""
    met: list[str] = []
    if rule.category:
        if item.category != rule.category:
            return None
        met.append(_("category is %(category)s") % {"category": item.get_category_display()})
    if rule.decision:
        if item.decision != rule.decision:
            return None
        met.append(_("suggested decision is %(decision)s") % {"decision": item.get_decision_display()})
    if rule.min_reach is not None:
        if item.author_reach is None or item.author_reach < rule.min_reach:
            return None
        met.append(_("reach %(reach)s ≥ %(min)s") % {"reach": item.author_reach, "min": rule.min_reach})
    if rule.min_priority is not None:
        if item.priority < rule.min_priority:
            return None
        met.append(_("priority %(priority)s ≥ %(min)s") % {"priority": item.priority, "min": rule.min_priority})
    if rule.topic:
        if rule.topic.lower() not in item.topics:
            return None
        met.append(_("topic %(topic)s") % {"topic": rule.topic.lower()})
    conditions = "; ".join(met) or _("every new item")
    return _("Rule “%(rule)s”: %(conditions)s") % {"rule": rule.name, "conditions": conditions}


def matching(item: PublicItem) -> list[tuple[SocialRule, str]]:
    rules = SocialRule.objects.filter(workspace_id=item.workspace_id, is_active=True).select_related("team")
    found = []
    for rule in rules.order_by("position", "id"):
        why = why_rule_holds(rule, item)
        if why is not None:
            found.append((rule, why))
    return found
