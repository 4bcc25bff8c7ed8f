"""The permission matrix: every /api/v1 route (from the OpenAPI schema) and every POST route under /app/ (from
Django's URL resolver), called as each of five members, answers 403 exactly when the member's role lacks the
permission the table below names for it (allowed means anything but 403: a 404 or 400 for the ids and bodies
used here is fine).

The members: the built-in admin, agent and light agent, a custom role with a few permissions (`SOME`) and a
custom role with none. Each call runs in a transaction that is rolled back, against a small real world (a
conversation with a message from an API channel, its contact, a merge, a suggestion, a team...), so the ids
that are looked up before a permission check exist.

A route missing from the table fails the test: add a line `"METHOD /path": Permission.X` (or `ANY` when every
member may call it) to API or APP below, naming the permission the route's code checks. A check removed from
the code fails it too: the role lacking the permission then gets something other than 403.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from threadline.api.urls import api as ninja_api
from threadline.contacts.actions import do_create_contact
from threadline.contacts.merge import do_merge_contacts
from threadline.contacts.models import MergeSuggestion
from threadline.conversations.models import Message
from threadline.conversations.tests.builders import bearer, inbound_conversation
from threadline.tenancy.actions import do_create_team
from threadline.tenancy.models import CustomRole
from threadline.tenancy.permissions import Permission as P
from threadline.testing import factories

pytestmark = pytest.mark.django_db(transaction=False)

ANY = None  # every member of the workspace may call it (their own data, or the set-up they work with)

# ── the table: route → the permission it needs ───────────────────────────────────────────────────────
API: dict[str, str | None] = {
    "GET /api/v1/me": ANY,
    # contacts
    "GET /api/v1/contacts": P.VIEW,
    "POST /api/v1/contacts": P.CONTACTS_EDIT,
    "GET /api/v1/contacts/{contact_id}": P.VIEW,
    "PATCH /api/v1/contacts/{contact_id}": P.CONTACTS_EDIT,
    "DELETE /api/v1/contacts/{contact_id}": P.CONTACTS_EDIT,
    "POST /api/v1/contacts/{contact_id}/identities": P.CONTACTS_EDIT,
    "DELETE /api/v1/contacts/{contact_id}/identities/{identity_id}": P.CONTACTS_EDIT,
    "POST /api/v1/contacts/{contact_id}/merge": P.MERGE,
    "GET /api/v1/contacts/{contact_id}/merges": P.VIEW,
    "GET /api/v1/contacts/merges/{merge_id}": P.VIEW,
    "POST /api/v1/contacts/merges/{merge_id}/unmerge": P.MERGE,
    "GET /api/v1/contacts/{contact_id}/suggestions": P.VIEW,
    "POST /api/v1/contacts/suggestions/{suggestion_id}/accept": P.MERGE,
    "POST /api/v1/contacts/suggestions/{suggestion_id}/dismiss": P.MERGE,
    "GET /api/v1/custom-fields": ANY,
    "POST /api/v1/custom-fields": P.ADMIN_AUTOMATIONS,
    "PUT /api/v1/custom-fields/{field_id}": P.ADMIN_AUTOMATIONS,
    "DELETE /api/v1/custom-fields/{field_id}": P.ADMIN_AUTOMATIONS,
    # conversations and messages
    "GET /api/v1/conversations": P.VIEW,
    "GET /api/v1/search": P.VIEW,
    # analytics
    "GET /api/v1/analytics/metrics/{metric}": P.ANALYTICS,
    "GET /api/v1/analytics/series/channels": P.ANALYTICS,
    "GET /api/v1/analytics/series/agents": P.ANALYTICS,
    "GET /api/v1/analytics/conversations": P.ANALYTICS,
    "GET /api/v1/analytics/alerts": P.ANALYTICS,
    "POST /api/v1/analytics/alerts": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/analytics/alerts/{rule_id}": P.ANALYTICS,
    "PUT /api/v1/analytics/alerts/{rule_id}": P.ADMIN_AUTOMATIONS,
    "DELETE /api/v1/analytics/alerts/{rule_id}": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/analytics/reports": P.ANALYTICS,
    "POST /api/v1/analytics/reports": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/analytics/reports/{schedule_id}": P.ANALYTICS,
    "PUT /api/v1/analytics/reports/{schedule_id}": P.ADMIN_AUTOMATIONS,
    "DELETE /api/v1/analytics/reports/{schedule_id}": P.ADMIN_AUTOMATIONS,
    "POST /api/v1/analytics/reports/{schedule_id}/send": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/surveys/responses": P.ANALYTICS,
    "GET /api/v1/triage/settings": P.VIEW,
    "PUT /api/v1/triage/settings": P.ADMIN_AUTOMATIONS,
    "POST /api/v1/triage/preview": P.VIEW,
    # machine translation
    "GET /api/v1/translation/settings": P.ADMIN_WORKSPACE,
    "PUT /api/v1/translation/settings": P.ADMIN_WORKSPACE,
    "GET /api/v1/translation/glossary": P.ADMIN_WORKSPACE,
    "POST /api/v1/translation/glossary": P.ADMIN_WORKSPACE,
    "DELETE /api/v1/translation/glossary/{term_id}": P.ADMIN_WORKSPACE,
    "GET /api/v1/imports": P.ADMIN_WORKSPACE,
    "GET /api/v1/imports/{run_id}": P.ADMIN_WORKSPACE,
    "GET /api/v1/imports/{run_id}/skipped": P.ADMIN_WORKSPACE,
    "POST /api/v1/translation/messages/{message_id}": P.VIEW,
    "POST /api/v1/translation/conversations/{conversation_id}/preview": P.REPLY,
    "POST /api/v1/translation/conversations/{conversation_id}/replies": P.REPLY,
    "POST /api/v1/translation/articles/{article_id}/drafts": P.KNOWLEDGE_EDIT,
    # social: public items and the public reply workflow
    "GET /api/v1/social/items": P.VIEW,
    "GET /api/v1/social/items/{item_id}": P.VIEW,
    "POST /api/v1/social/items/{item_id}/reply": P.REPLY,
    "POST /api/v1/social/items/{item_id}/private": P.REPLY,
    "POST /api/v1/social/items/{item_id}/hide": P.REPLY,
    "POST /api/v1/social/items/{item_id}/unhide": P.REPLY,
    "POST /api/v1/social/items/{item_id}/delete": P.REPLY,
    "POST /api/v1/social/items/{item_id}/do-not-answer": P.REPLY,
    "POST /api/v1/social/actions/{action_id}/approve": P.REPLY,
    "POST /api/v1/social/actions/{action_id}/discard": P.REPLY,
    "GET /api/v1/social/settings": P.ADMIN_AUTOMATIONS,
    "PUT /api/v1/social/settings": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/social/rules": P.ADMIN_AUTOMATIONS,
    "POST /api/v1/social/rules": P.ADMIN_AUTOMATIONS,
    "PUT /api/v1/social/rules/{rule_id}": P.ADMIN_AUTOMATIONS,
    "DELETE /api/v1/social/rules/{rule_id}": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/crises": P.VIEW,
    "GET /api/v1/crises/{crisis_id}": P.VIEW,
    "POST /api/v1/crises/{crisis_id}/close": P.ADMIN_AUTOMATIONS,
    # outreach
    "GET /api/v1/outreach/campaigns": P.ANALYTICS,
    "POST /api/v1/outreach/campaigns": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/outreach/campaigns/{campaign_id}": P.ANALYTICS,
    "PATCH /api/v1/outreach/campaigns/{campaign_id}": P.ADMIN_AUTOMATIONS,
    "POST /api/v1/outreach/campaigns/{campaign_id}/send": P.ADMIN_AUTOMATIONS,
    "POST /api/v1/outreach/campaigns/{campaign_id}/cancel": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/outreach/campaigns/{campaign_id}/deliveries": P.ANALYTICS,
    "GET /api/v1/outreach/campaigns/{campaign_id}/deliveries.csv": P.ANALYTICS,
    "POST /api/v1/outreach/segments/preview": P.ANALYTICS,
    "POST /api/v1/outreach/notifications": P.REPLY,
    "GET /api/v1/outreach/settings": P.ADMIN_AUTOMATIONS,
    "PUT /api/v1/outreach/settings": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/outreach/proactive-rules": P.ADMIN_CHANNELS,
    "POST /api/v1/outreach/proactive-rules": P.ADMIN_CHANNELS,
    "PUT /api/v1/outreach/proactive-rules/{rule_id}": P.ADMIN_CHANNELS,
    "DELETE /api/v1/outreach/proactive-rules/{rule_id}": P.ADMIN_CHANNELS,
    "GET /api/v1/conversations/{conversation_id}": P.VIEW,
    "PATCH /api/v1/conversations/{conversation_id}": P.ASSIGN,
    "POST /api/v1/conversations/{conversation_id}/merge": P.ASSIGN,
    "GET /api/v1/conversations/{conversation_id}/events": P.VIEW,
    "GET /api/v1/conversations/{conversation_id}/messages": P.VIEW,
    "POST /api/v1/conversations/{conversation_id}/messages": P.REPLY,
    "POST /api/v1/conversations/{conversation_id}/notes": P.NOTE,
    "GET /api/v1/messages/{message_id}": P.VIEW,
    "POST /api/v1/messages/{message_id}/split": P.ASSIGN,
    "POST /api/v1/messages/{message_id}/move": P.ASSIGN,
    "GET /api/v1/attachments/{attachment_id}": P.VIEW,
    "GET /api/v1/conversations/{conversation_id}/reachability": P.VIEW,
    "POST /api/v1/conversations/{conversation_id}/template-replies": P.REPLY,
    "GET /api/v1/conversations/{conversation_id}/participants": P.VIEW,
    "POST /api/v1/conversations/{conversation_id}/participants": P.REPLY,
    "DELETE /api/v1/conversations/{conversation_id}/participants/{address}": P.REPLY,
    "GET /api/v1/messages/{message_id}/email": P.VIEW,
    "GET /api/v1/messages/{message_id}/email/original": P.VIEW,
    "POST /api/v1/messages/{message_id}/redact": P.REDACT,
    # people, teams, tokens, roles
    "GET /api/v1/agents": ANY,
    "POST /api/v1/agents": P.ADMIN_PEOPLE,
    "GET /api/v1/agents/{agent_id}": ANY,
    "PATCH /api/v1/agents/{agent_id}": P.ADMIN_PEOPLE,
    "PUT /api/v1/agents/{agent_id}/role": P.ADMIN_PEOPLE,
    "POST /api/v1/agents/{agent_id}/password-reset": P.ADMIN_PEOPLE,
    "DELETE /api/v1/agents/{agent_id}/second-factor": P.ADMIN_PEOPLE,
    "GET /api/v1/agents/invitations": P.ADMIN_PEOPLE,
    "POST /api/v1/agents/invitations": P.ADMIN_PEOPLE,
    "DELETE /api/v1/agents/invitations/{invitation_id}": P.ADMIN_PEOPLE,
    "POST /api/v1/agents/invitations/{invitation_id}/resend": P.ADMIN_PEOPLE,
    "GET /api/v1/teams": ANY,
    "POST /api/v1/teams": P.ADMIN_ROUTING,
    "GET /api/v1/teams/{team_id}": ANY,
    "PATCH /api/v1/teams/{team_id}": P.ADMIN_ROUTING,
    "DELETE /api/v1/teams/{team_id}": P.ADMIN_ROUTING,
    "GET /api/v1/tokens": ANY,
    "DELETE /api/v1/tokens/{token_id}": ANY,  # your own; another's is not found without admin.workspace
    "GET /api/v1/roles": ANY,
    "POST /api/v1/roles": P.ADMIN_PEOPLE,
    "GET /api/v1/roles/permissions": ANY,
    "GET /api/v1/roles/{role_id}": ANY,
    "PATCH /api/v1/roles/{role_id}": P.ADMIN_PEOPLE,
    "DELETE /api/v1/roles/{role_id}": P.ADMIN_PEOPLE,
    # channels
    "GET /api/v1/channels": ANY,
    "POST /api/v1/channels": P.ADMIN_CHANNELS,
    "GET /api/v1/channels/kinds": ANY,
    "GET /api/v1/channels/{channel_id}": ANY,
    "PATCH /api/v1/channels/{channel_id}": P.ADMIN_CHANNELS,
    "GET /api/v1/inbound-events": P.ADMIN_CHANNELS,
    "GET /api/v1/inbound-events/{event_id}": P.ADMIN_CHANNELS,
    "POST /api/v1/inbound-events/{event_id}/replay": P.ADMIN_CHANNELS,
    "POST /api/v1/inbound-events/{event_id}/dismiss": P.ADMIN_CHANNELS,
    "GET /api/v1/whatsapp/{channel_id}/templates": ANY,
    "POST /api/v1/whatsapp/{channel_id}/templates/sync": P.ADMIN_CHANNELS,
    "GET /api/v1/channels/{channel_id}/email/domains": P.ADMIN_CHANNELS,
    "POST /api/v1/channels/{channel_id}/email/domains/{domain}/verify": P.ADMIN_CHANNELS,
    # webhooks
    "GET /api/v1/webhooks/event-types": ANY,
    "GET /api/v1/webhooks/event-types/{event_type}/schema": ANY,
    "GET /api/v1/webhooks/poll/{event_type}": P.ADMIN_WORKSPACE,
    # panel apps
    "GET /api/v1/panel-apps": P.ADMIN_WORKSPACE,
    "POST /api/v1/panel-apps": P.ADMIN_WORKSPACE,
    "PATCH /api/v1/panel-apps/{app_id}": P.ADMIN_WORKSPACE,
    "DELETE /api/v1/panel-apps/{app_id}": P.ADMIN_WORKSPACE,
    "GET /api/v1/panel-apps/conversations/{conversation_id}/cards": P.VIEW,
    "POST /api/v1/panel-apps/{app_id}/conversations/{conversation_id}/actions": P.ASSIGN,
    # crm
    "GET /api/v1/crm/connections": P.ADMIN_WORKSPACE,
    "PUT /api/v1/crm/connections/{provider}": P.ADMIN_WORKSPACE,
    "DELETE /api/v1/crm/connections/{provider}": P.ADMIN_WORKSPACE,
    "GET /api/v1/crm/contacts/{contact_id}": P.VIEW,
    "POST /api/v1/crm/contacts/{contact_id}/sync": P.CONTACTS_EDIT,
    "GET /api/v1/crm/log": P.ADMIN_WORKSPACE,
    # jira
    "GET /api/v1/jira/connection": P.ADMIN_WORKSPACE,
    "PUT /api/v1/jira/connection": P.ADMIN_WORKSPACE,
    "GET /api/v1/jira/conversations/{conversation_id}/issues": P.VIEW,
    "POST /api/v1/jira/conversations/{conversation_id}/issues": P.ASSIGN,
    "POST /api/v1/jira/conversations/{conversation_id}/links": P.ASSIGN,
    "DELETE /api/v1/jira/conversations/{conversation_id}/issues/{link_id}": P.ASSIGN,
    "GET /api/v1/webhooks": P.ADMIN_WORKSPACE,
    "POST /api/v1/webhooks": P.ADMIN_WORKSPACE,
    "GET /api/v1/webhooks/{subscription_id}": P.ADMIN_WORKSPACE,
    "PATCH /api/v1/webhooks/{subscription_id}": P.ADMIN_WORKSPACE,
    "DELETE /api/v1/webhooks/{subscription_id}": P.ADMIN_WORKSPACE,
    "GET /api/v1/webhooks/{subscription_id}/deliveries": P.ADMIN_WORKSPACE,
    "POST /api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver": P.ADMIN_WORKSPACE,
    # replies, macros, automations
    "GET /api/v1/replies/templates": ANY,
    "POST /api/v1/replies/templates": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/replies/templates/{template_id}": ANY,
    "PUT /api/v1/replies/templates/{template_id}": P.ADMIN_AUTOMATIONS,
    "DELETE /api/v1/replies/templates/{template_id}": P.ADMIN_AUTOMATIONS,
    "POST /api/v1/replies/templates/{template_id}/render": P.VIEW,
    "GET /api/v1/replies/macros": ANY,
    "POST /api/v1/replies/macros": P.ADMIN_AUTOMATIONS,
    "GET /api/v1/replies/macros/{macro_id}": ANY,
    "PUT /api/v1/replies/macros/{macro_id}": P.ADMIN_AUTOMATIONS,
    "DELETE /api/v1/replies/macros/{macro_id}": P.ADMIN_AUTOMATIONS,
    "POST /api/v1/replies/macros/{macro_id}/apply": P.REPLY,
    "GET /api/v1/automations": ANY,
    "POST /api/v1/automations": P.ADMIN_AUTOMATIONS,
    "POST /api/v1/automations/dry-run": ANY,
    "GET /api/v1/automations/runs": ANY,
    "GET /api/v1/automations/{automation_id}": ANY,
    "PUT /api/v1/automations/{automation_id}": P.ADMIN_AUTOMATIONS,
    "DELETE /api/v1/automations/{automation_id}": P.ADMIN_AUTOMATIONS,
    "POST /api/v1/automations/{automation_id}/dry-run": ANY,
    # language, SLA, routing
    "POST /api/v1/language/detect": ANY,
    "PUT /api/v1/language/conversations/{conversation_id}": P.ASSIGN,
    "GET /api/v1/sla/schedules": ANY,
    "POST /api/v1/sla/schedules": P.ADMIN_ROUTING,
    "GET /api/v1/sla/schedules/{schedule_id}": ANY,
    "PUT /api/v1/sla/schedules/{schedule_id}": P.ADMIN_ROUTING,
    "DELETE /api/v1/sla/schedules/{schedule_id}": P.ADMIN_ROUTING,
    "GET /api/v1/sla/schedules/{schedule_id}/deadline": ANY,
    "GET /api/v1/sla/policies": ANY,
    "POST /api/v1/sla/policies": P.ADMIN_ROUTING,
    "GET /api/v1/sla/policies/{policy_id}": ANY,
    "PUT /api/v1/sla/policies/{policy_id}": P.ADMIN_ROUTING,
    "DELETE /api/v1/sla/policies/{policy_id}": P.ADMIN_ROUTING,
    "GET /api/v1/sla/conversations/{conversation_id}": P.VIEW,
    "GET /api/v1/routing/agents": ANY,
    "GET /api/v1/routing/agents/{membership_id}": ANY,
    "PATCH /api/v1/routing/agents/{membership_id}": P.ADMIN_ROUTING,
    "PUT /api/v1/routing/agents/{membership_id}/presence": P.ADMIN_ROUTING,  # another's; your own needs nothing
    "GET /api/v1/routing/teams/{team_id}/policy": ANY,
    "PATCH /api/v1/routing/teams/{team_id}/policy": P.ADMIN_ROUTING,
    "GET /api/v1/routing/rules": ANY,
    "POST /api/v1/routing/rules": P.ADMIN_ROUTING,
    "PUT /api/v1/routing/rules/{rule_id}": P.ADMIN_ROUTING,
    "DELETE /api/v1/routing/rules/{rule_id}": P.ADMIN_ROUTING,
    "POST /api/v1/routing/conversations/{conversation_id}/route": P.ASSIGN,
    "GET /api/v1/routing/conversations/{conversation_id}/decisions": P.VIEW,
    # consent
    "GET /api/v1/consent": P.VIEW,
    "POST /api/v1/consent": P.CONTACTS_EDIT,
    # audit and privacy
    "GET /api/v1/audit": P.AUDIT,
    "GET /api/v1/audit/export": P.AUDIT,
    "POST /api/v1/contacts/{contact_id}/export": P.EXPORT,
    "GET /api/v1/privacy/exports": P.EXPORT,
    "GET /api/v1/privacy/exports/{export_id}": P.EXPORT,
    "GET /api/v1/privacy/exports/{export_id}/download": P.EXPORT,
    "POST /api/v1/contacts/{contact_id}/erasure": P.ERASE,
    "GET /api/v1/privacy/erasures": P.ERASE,
    "GET /api/v1/privacy/erasures/{erasure_id}": P.ERASE,
    "POST /api/v1/privacy/erasures/{erasure_id}/confirm": P.ERASE,
    "POST /api/v1/privacy/erasures/{erasure_id}/cancel": P.ERASE,
    "GET /api/v1/privacy/settings": P.ADMIN_SECURITY,
    "PATCH /api/v1/privacy/settings": P.ADMIN_SECURITY,
    "GET /api/v1/privacy/retention": P.ADMIN_SECURITY,
    "PUT /api/v1/privacy/retention": P.ADMIN_SECURITY,
    "GET /api/v1/privacy/retention/dry-run": P.ADMIN_SECURITY,
    "GET /api/v1/redaction/settings": P.ADMIN_SECURITY,
    "PATCH /api/v1/redaction/settings": P.ADMIN_SECURITY,
    "GET /api/v1/sso": P.ADMIN_SECURITY,
    "PUT /api/v1/sso": P.ADMIN_SECURITY,
    "DELETE /api/v1/sso": P.ADMIN_SECURITY,
    "POST /api/v1/sso/test": P.ADMIN_SECURITY,
    # knowledge base
    "GET /api/v1/knowledge/help-centers": P.VIEW,
    "POST /api/v1/knowledge/help-centers": P.ADMIN_WORKSPACE,
    "GET /api/v1/knowledge/help-centers/{help_center_id}": P.VIEW,
    "PUT /api/v1/knowledge/help-centers/{help_center_id}": P.ADMIN_WORKSPACE,
    "DELETE /api/v1/knowledge/help-centers/{help_center_id}": P.ADMIN_WORKSPACE,
    "GET /api/v1/knowledge/categories": P.VIEW,
    "POST /api/v1/knowledge/categories": P.KNOWLEDGE_PUBLISH,
    "GET /api/v1/knowledge/categories/{category_id}": P.VIEW,
    "PUT /api/v1/knowledge/categories/{category_id}": P.KNOWLEDGE_PUBLISH,
    "DELETE /api/v1/knowledge/categories/{category_id}": P.KNOWLEDGE_PUBLISH,
    "GET /api/v1/knowledge/sections": P.VIEW,
    "POST /api/v1/knowledge/sections": P.KNOWLEDGE_PUBLISH,
    "GET /api/v1/knowledge/sections/{section_id}": P.VIEW,
    "PUT /api/v1/knowledge/sections/{section_id}": P.KNOWLEDGE_PUBLISH,
    "DELETE /api/v1/knowledge/sections/{section_id}": P.KNOWLEDGE_PUBLISH,
    "GET /api/v1/knowledge/articles": P.VIEW,
    "POST /api/v1/knowledge/articles": P.KNOWLEDGE_EDIT,
    "GET /api/v1/knowledge/articles/{article_id}": P.VIEW,
    "PATCH /api/v1/knowledge/articles/{article_id}": P.KNOWLEDGE_EDIT,
    "DELETE /api/v1/knowledge/articles/{article_id}": P.KNOWLEDGE_PUBLISH,
    "POST /api/v1/knowledge/articles/{article_id}/related/{other_id}": P.KNOWLEDGE_EDIT,
    "DELETE /api/v1/knowledge/articles/{article_id}/related/{other_id}": P.KNOWLEDGE_EDIT,
    "POST /api/v1/knowledge/articles/{article_id}/attachments": P.KNOWLEDGE_EDIT,
    "GET /api/v1/knowledge/attachments/{attachment_id}": P.VIEW,
    "DELETE /api/v1/knowledge/attachments/{attachment_id}": P.KNOWLEDGE_EDIT,
    "GET /api/v1/knowledge/articles/{article_id}/translations/{language}": P.VIEW,
    "PUT /api/v1/knowledge/articles/{article_id}/translations/{language}": P.KNOWLEDGE_EDIT,
    "POST /api/v1/knowledge/articles/{article_id}/translations/{language}/submit": P.KNOWLEDGE_EDIT,
    "POST /api/v1/knowledge/articles/{article_id}/translations/{language}/publish": P.KNOWLEDGE_PUBLISH,
    "POST /api/v1/knowledge/articles/{article_id}/translations/{language}/unpublish": P.KNOWLEDGE_PUBLISH,
    "POST /api/v1/knowledge/articles/{article_id}/translations/{language}/archive": P.KNOWLEDGE_PUBLISH,
    "GET /api/v1/knowledge/articles/{article_id}/translations/{language}/versions": P.VIEW,
    "GET /api/v1/knowledge/articles/{article_id}/translations/{language}/versions/{number}": P.VIEW,
    "GET /api/v1/knowledge/articles/{article_id}/translations/{language}/versions/{number}/diff": P.VIEW,
    "POST /api/v1/knowledge/articles/{article_id}/translations/{language}/versions/{number}/restore": P.KNOWLEDGE_EDIT,
    "GET /api/v1/knowledge/search": P.VIEW,
}

APP: dict[str, str | None] = {
    # the workspace (agent_view; the action or the view checks)
    "app/settings": ANY,
    "app/x/password": ANY,
    "app/x/preferences": ANY,
    "app/x/ui": ANY,
    "app/x/presence": ANY,
    "app/x/workspace": ANY,
    "app/x/browser-defaults": ANY,
    "app/x/views": ANY,
    "app/x/views/<int:view_id>/delete": ANY,
    "app/x/bulk": P.ASSIGN,
    "app/x/conversations/<int:conversation_id>/reply": P.REPLY,
    "app/x/conversations/<int:conversation_id>/note": P.NOTE,
    "app/x/conversations/<int:conversation_id>/jira/file": P.ASSIGN,
    "app/x/conversations/<int:conversation_id>/apps/<int:app_id>/action": P.ASSIGN,
    "app/x/conversations/<int:conversation_id>/jira/link": P.ASSIGN,
    "app/x/conversations/<int:conversation_id>/jira/<int:link_id>/unlink": P.ASSIGN,
    "app/x/conversations/<int:conversation_id>/update": P.ASSIGN,
    "app/x/conversations/<int:conversation_id>/snooze": P.ASSIGN,
    "app/x/conversations/<int:conversation_id>/merge": P.ASSIGN,
    "app/x/conversations/<int:conversation_id>/seen": P.VIEW,
    "app/x/conversations/<int:conversation_id>/fields": P.ASSIGN,
    "app/x/conversations/<int:conversation_id>/schedule": P.REPLY,
    "app/x/conversations/<int:conversation_id>/macro": P.REPLY,
    "app/x/conversations/<int:conversation_id>/translate-preview": P.REPLY,
    "app/x/messages/<int:message_id>/translate": P.VIEW,
    "app/knowledge/<int:article_id>/<str:language>/machine-translate": P.KNOWLEDGE_EDIT,
    "app/admin/translation": P.ADMIN_WORKSPACE,
    "app/admin/translation/glossary": P.ADMIN_WORKSPACE,
    "app/admin/translation/glossary/<int:term_id>/delete": P.ADMIN_WORKSPACE,
    "app/x/scheduled/<int:scheduled_id>/cancel": P.REPLY,
    "app/x/messages/<int:message_id>/split": P.ASSIGN,
    "app/x/messages/<int:message_id>/redact": P.REDACT,
    "app/x/messages/<int:message_id>/resend": P.REPLY,
    "app/x/messages/<int:message_id>/retry": P.REPLY,
    "app/x/contacts/<int:contact_id>/merge": P.MERGE,
    "app/x/contacts/<int:contact_id>/fields": P.CONTACTS_EDIT,
    "app/x/contacts/<int:contact_id>/preferred-channel": P.CONTACTS_EDIT,
    "app/x/merges/<int:merge_id>/unmerge": P.MERGE,
    "app/x/suggestions/<int:suggestion_id>/<str:decision>": P.MERGE,
    "app/x/contacts/<int:contact_id>/export": P.EXPORT,
    "app/x/contacts/<int:contact_id>/erasure": P.ERASE,
    "app/x/erasures/<int:erasure_id>/<str:step>": P.ERASE,
    "app/knowledge/new": P.KNOWLEDGE_EDIT,
    "app/knowledge/structure/help-center": P.ADMIN_WORKSPACE,
    "app/knowledge/structure/categories": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/structure/sections": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/structure/help-centers/<int:help_center_id>": P.ADMIN_WORKSPACE,
    "app/knowledge/structure/help-centers/<int:help_center_id>/delete": P.ADMIN_WORKSPACE,
    "app/knowledge/structure/categories/<int:category_id>": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/structure/categories/<int:category_id>/delete": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/structure/sections/<int:section_id>": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/structure/sections/<int:section_id>/delete": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/<int:article_id>/delete": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/<int:article_id>/settings": P.KNOWLEDGE_EDIT,
    "app/knowledge/<int:article_id>/related": P.KNOWLEDGE_EDIT,
    "app/knowledge/<int:article_id>/attachments": P.KNOWLEDGE_EDIT,
    "app/knowledge/<int:article_id>/<str:language>": P.KNOWLEDGE_EDIT,
    "app/knowledge/<int:article_id>/<str:language>/submit": P.KNOWLEDGE_EDIT,
    "app/knowledge/<int:article_id>/<str:language>/publish": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/<int:article_id>/<str:language>/unpublish": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/<int:article_id>/<str:language>/archive": P.KNOWLEDGE_PUBLISH,
    "app/knowledge/<int:article_id>/<str:language>/versions/<int:number>/restore": P.KNOWLEDGE_EDIT,
    "app/attention/<int:event_id>/replay": P.ADMIN_CHANNELS,
    "app/attention/<int:event_id>/dismiss": P.ADMIN_CHANNELS,
    "app/reports/alerts/new": P.ADMIN_AUTOMATIONS,
    "app/reports/alerts/<int:rule_id>/toggle": P.ADMIN_AUTOMATIONS,
    "app/reports/alerts/<int:rule_id>/delete": P.ADMIN_AUTOMATIONS,
    "app/reports/schedules/new": P.ADMIN_AUTOMATIONS,
    "app/reports/schedules/<int:schedule_id>/send": P.ADMIN_AUTOMATIONS,
    "app/reports/schedules/<int:schedule_id>/delete": P.ADMIN_AUTOMATIONS,
    # administration screens (admin_screen(Permission.X))
    "app/admin/workspace": P.ADMIN_WORKSPACE,
    "app/admin/brands": P.ADMIN_WORKSPACE,
    "app/admin/brands/<int:brand_id>": P.ADMIN_WORKSPACE,
    "app/admin/brands/<int:brand_id>/delete": P.ADMIN_WORKSPACE,
    "app/admin/bot": P.ADMIN_AUTOMATIONS,
    "app/admin/surveys": P.ADMIN_AUTOMATIONS,
    "app/social/settings": P.ADMIN_AUTOMATIONS,
    "app/social/rules/new": P.ADMIN_AUTOMATIONS,
    "app/social/rules/<int:rule_id>/delete": P.ADMIN_AUTOMATIONS,
    "app/social/<int:item_id>/reply": P.REPLY,
    "app/social/<int:item_id>/private": P.REPLY,
    "app/social/<int:item_id>/hide": P.REPLY,
    "app/social/<int:item_id>/unhide": P.REPLY,
    "app/social/<int:item_id>/delete": P.REPLY,
    "app/social/<int:item_id>/do-not-answer": P.REPLY,
    "app/social/actions/<int:action_id>/approve": P.REPLY,
    "app/social/actions/<int:action_id>/discard": P.REPLY,
    "app/admin/outreach": P.ADMIN_AUTOMATIONS,
    "app/outreach/new": P.ADMIN_AUTOMATIONS,
    "app/outreach/<int:campaign_id>/send": P.ADMIN_AUTOMATIONS,
    "app/outreach/<int:campaign_id>/cancel": P.ADMIN_AUTOMATIONS,
    "app/admin/triage": P.ADMIN_AUTOMATIONS,
    "app/crisis/<int:crisis_id>/close": P.ADMIN_AUTOMATIONS,
    "app/crisis/<int:crisis_id>/holding-reply": P.ADMIN_AUTOMATIONS,
    "app/crisis/<int:crisis_id>/notice": P.ADMIN_AUTOMATIONS,
    "app/crisis/<int:crisis_id>/known-issue": P.ADMIN_AUTOMATIONS,
    "app/admin/tokens": P.ADMIN_WORKSPACE,
    "app/admin/tokens/<int:token_id>/revoke": P.ADMIN_WORKSPACE,
    "app/admin/webhooks": P.ADMIN_WORKSPACE,
    "app/admin/apps": P.ADMIN_WORKSPACE,
    "app/admin/apps/<int:app_id>/<str:operation>": P.ADMIN_WORKSPACE,
    "app/admin/jira": P.ADMIN_WORKSPACE,
    "app/admin/crm": P.ADMIN_WORKSPACE,
    "app/admin/crm/<str:provider>/disconnect": P.ADMIN_WORKSPACE,
    "app/admin/webhooks/<int:subscription_id>": P.ADMIN_WORKSPACE,
    "app/admin/webhooks/<int:subscription_id>/delete": P.ADMIN_WORKSPACE,
    "app/admin/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver": P.ADMIN_WORKSPACE,
    "app/admin/channels/new/<str:kind>": P.ADMIN_CHANNELS,
    "app/admin/channels/<int:channel_id>": P.ADMIN_CHANNELS,
    "app/admin/channels/<int:channel_id>/disable": P.ADMIN_CHANNELS,
    "app/admin/channels/<int:channel_id>/enable": P.ADMIN_CHANNELS,
    "app/admin/channels/<int:channel_id>/rotate/<str:field>": P.ADMIN_CHANNELS,
    "app/admin/channels/<int:channel_id>/send-test": P.ADMIN_CHANNELS,
    "app/admin/channels/<int:channel_id>/signing-key": P.ADMIN_CHANNELS,
    "app/admin/channels/<int:channel_id>/test": P.ADMIN_CHANNELS,
    "app/admin/channels/<int:channel_id>/register-webhook": P.ADMIN_CHANNELS,
    "app/admin/people/invite": P.ADMIN_PEOPLE,
    "app/admin/people/<int:membership_id>/<str:operation>": P.ADMIN_PEOPLE,
    "app/admin/roles": P.ADMIN_PEOPLE,
    "app/admin/roles/<int:role_id>": P.ADMIN_PEOPLE,
    "app/admin/roles/<int:role_id>/delete": P.ADMIN_PEOPLE,
    "app/admin/teams": P.ADMIN_ROUTING,
    "app/admin/teams/<int:team_id>": P.ADMIN_ROUTING,
    "app/admin/teams/<int:team_id>/delete": P.ADMIN_ROUTING,
    "app/admin/teams/agents/<int:membership_id>": P.ADMIN_ROUTING,
    "app/admin/hours": P.ADMIN_ROUTING,
    "app/admin/hours/<int:schedule_id>": P.ADMIN_ROUTING,
    "app/admin/hours/<int:schedule_id>/delete": P.ADMIN_ROUTING,
    "app/admin/sla": P.ADMIN_ROUTING,
    "app/admin/sla/<int:policy_id>": P.ADMIN_ROUTING,
    "app/admin/sla/<int:policy_id>/delete": P.ADMIN_ROUTING,
    "app/admin/routing": P.ADMIN_ROUTING,
    "app/admin/routing/<int:rule_id>": P.ADMIN_ROUTING,
    "app/admin/routing/<int:rule_id>/delete": P.ADMIN_ROUTING,
    "app/admin/routing/<int:rule_id>/move/<str:direction>": P.ADMIN_ROUTING,
    "app/admin/routing/<int:rule_id>/toggle": P.ADMIN_ROUTING,
    "app/admin/automations/new": P.ADMIN_AUTOMATIONS,
    "app/admin/automations/dry-run": P.ADMIN_AUTOMATIONS,
    "app/admin/automations/<int:automation_id>": P.ADMIN_AUTOMATIONS,
    "app/admin/automations/<int:automation_id>/delete": P.ADMIN_AUTOMATIONS,
    "app/admin/automations/<int:automation_id>/toggle": P.ADMIN_AUTOMATIONS,
    "app/admin/replies": P.ADMIN_AUTOMATIONS,
    "app/admin/replies/<int:template_id>": P.ADMIN_AUTOMATIONS,
    "app/admin/replies/<int:template_id>/delete": P.ADMIN_AUTOMATIONS,
    "app/admin/replies/macros": P.ADMIN_AUTOMATIONS,
    "app/admin/replies/macros/<int:macro_id>": P.ADMIN_AUTOMATIONS,
    "app/admin/replies/macros/<int:macro_id>/delete": P.ADMIN_AUTOMATIONS,
    "app/admin/templates": P.ADMIN_AUTOMATIONS,
    "app/admin/templates/<int:template_id>": P.ADMIN_AUTOMATIONS,
    "app/admin/templates/<int:template_id>/delete": P.ADMIN_AUTOMATIONS,
    "app/admin/templates/whatsapp/<int:channel_id>/sync": P.ADMIN_AUTOMATIONS,
    "app/admin/fields": P.ADMIN_AUTOMATIONS,
    "app/admin/fields/<int:field_id>": P.ADMIN_AUTOMATIONS,
    "app/admin/fields/<int:field_id>/delete": P.ADMIN_AUTOMATIONS,
    "app/admin/fields/tags/<int:tag_id>": P.ADMIN_AUTOMATIONS,
    "app/admin/fields/tags/<int:tag_id>/delete": P.ADMIN_AUTOMATIONS,
    "app/admin/security": P.ADMIN_SECURITY,
    "app/admin/security/delete": P.ADMIN_SECURITY,
    "app/admin/security/test": P.ADMIN_SECURITY,
    "app/admin/privacy": P.ADMIN_SECURITY,
    "app/admin/privacy/redaction": P.ADMIN_SECURITY,
    "app/admin/privacy/settings": P.ADMIN_SECURITY,
    "app/admin/privacy/retention": P.ADMIN_SECURITY,
    "app/admin/privacy/retention/run": P.ADMIN_SECURITY,
    # community moderation (community/views_moderation.py)
    "app/community/forums": P.COMMUNITY_MODERATE,
    "app/community/forums/<int:forum_id>/categories": P.COMMUNITY_MODERATE,
    "app/community/posts/<int:post_id>/<str:operation>": P.COMMUNITY_MODERATE,
    "app/community/topics/<int:topic_id>/<str:operation>": P.COMMUNITY_MODERATE,
    "app/community/reports/<int:report_id>/resolve": P.COMMUNITY_MODERATE,
    "app/community/members/<int:member_id>/badges": P.COMMUNITY_MODERATE,
}

# ── the members ──────────────────────────────────────────────────────────────────────────────────────
SOME = frozenset({P.VIEW, P.NOTE, P.EXPORT, P.AUDIT, P.ADMIN_ROUTING})
ROLES = ("admin", "agent", "light_agent", "some", "nothing")
GRANTED = {"admin": frozenset(P.values), "agent": frozenset({P.VIEW, P.CONTACTS_EDIT, P.REPLY, P.NOTE, P.ASSIGN,
                                                             P.MERGE, P.REDACT, P.KNOWLEDGE_EDIT, P.COMMUNITY_MODERATE}),
           "light_agent": frozenset({P.VIEW, P.NOTE}), "some": SOME, "nothing": frozenset()}
FAKE_ID = 987654


@pytest.fixture
def world(client, admin, run_jobs, settings) -> dict[str, Any]:
    """One workspace with a conversation and the rows its routes look up, and the five members."""
    settings.THREADLINE = {**settings.THREADLINE, "API_RATE_LIMIT": 1_000_000}
    channel = factories.make_api_channel(admin)
    conversation = inbound_conversation(client, channel, run_jobs, "m-1", "carol@example.com", "Hello there")
    message = Message.objects.filter(conversation=conversation).first()
    contact = conversation.contact
    with transaction.atomic():
        merge = do_merge_contacts(admin, do_create_contact(admin.workspace, name="Carol twin"), contact)
        other = do_create_contact(admin.workspace, name="Maybe Carol")
        suggestion = MergeSuggestion.objects.create(workspace=admin.workspace, contact=other, candidate=contact)
        team = do_create_team(admin.workspace, "Billing")
    members = {
        "admin": admin,
        "agent": factories.make_agent(admin, "ann@example.com"),
        "light_agent": factories.make_agent(admin, "lee@example.com", role="light_agent"),
        "some": factories.make_role_member(admin, "sam@example.com", sorted(SOME), role_name="Some"),
        "nothing": factories.make_role_member(admin, "nil@example.com", [], role_name="Nothing"),
    }
    target = factories.make_agent(admin, "tia@example.com", role="light_agent")
    ids = {
        "contact_id": contact.pk, "identity_id": contact.identities.first().pk, "merge_id": merge.pk,
        "suggestion_id": suggestion.pk, "conversation_id": conversation.pk, "message_id": message.pk,
        "agent_id": target.pk, "membership_id": target.pk, "team_id": team.pk, "channel_id": channel.pk,
        "role_id": CustomRole.objects.get(name="Some").pk, "event_id": channel.inbound_events.first().pk,
        "address": "carol@example.com", "domain": "example.com", "metric": "overview",
        "event_type": "message.received", "provider": "hubspot",
    }
    return {"members": members, "ids": ids, "tokens": {k: factories.make_token(m) for k, m in members.items()}}


# ── calling a route ──────────────────────────────────────────────────────────────────────────────────
def _fill(path: str, ids: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), FAKE_ID)), path)


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _example(schema: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """A small value the schema accepts: required properties only, the first enum value or variant."""
    node = _resolve(schema, node)
    if not isinstance(node, dict) or depth > 6:
        return None
    if "enum" in node:
        return node["enum"][0]
    if "const" in node:
        return node["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = [o for o in node[key] if _resolve(schema, o).get("type") != "null"] or node[key]
            return _example(schema, options[0], depth + 1)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        return {name: _example(schema, props[name], depth + 1) for name in node.get("required", [])}
    if kind == "array":
        return [_example(schema, node["items"], depth + 1)] * node.get("minItems", 0) if "items" in node else []
    if kind == "integer" or kind == "number":
        return max(1, node.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        if node.get("format") == "email":
            return "someone@example.com"
        if node.get("format") == "date-time":
            return "2030-01-01T00:00:00Z"
        if node.get("format") in ("uri", "url"):
            return "https://example.com/"
        return "x" * max(1, node.get("minLength", 1))
    return None


def _query(schema: dict[str, Any], operation: dict[str, Any]) -> str:
    """The route's required query parameters with values their schema accepts (`?q=x`), or ""."""
    wanted = {p["name"]: _example(schema, p.get("schema", {})) for p in operation.get("parameters", [])
              if p.get("in") == "query" and p.get("required")}
    return "?" + urlencode(wanted) if wanted else ""


def _body(schema: dict[str, Any], operation: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _example(schema, content["application/json"]["schema"])


def _call(client: Client, method: str, url: str, body: Any = None, *, form: bool = False, **headers: Any) -> int:
    with transaction.atomic():
        if form:
            response = client.generic(method, url, "", content_type="application/x-www-form-urlencoded", **headers)
        elif body is None:
            response = client.generic(method, url, **headers)
        else:
            response = client.generic(method, url, json.dumps(body), content_type="application/json", **headers)
        transaction.set_rollback(True)
    return response.status_code


def api_routes() -> dict[str, dict[str, Any]]:
    schema = ninja_api.get_openapi_schema()
    return {f"{method.upper()} {path}": {"schema": schema, "operation": op}
            for path, ops in schema["paths"].items() for method, op in ops.items()}


def app_patterns() -> list[str]:
    """Every URL pattern under app/ as its route text, e.g. `app/x/conversations/<int:conversation_id>/reply`."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if route.startswith("app/"):
                    found.append(route)

    walk(get_resolver().url_patterns, "")
    return found


def _app_url(route: str, ids: dict[str, Any]) -> str:
    words = {"step": "confirm", "decision": "dismiss", "operation": "update", "direction": "up"}
    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(words.get(m.group(2)) or ids.get(m.group(2), FAKE_ID)),
                        route)


def _allowed(required: str | None, role: str) -> bool:
    return required is None or required in GRANTED[role]


# ── the tests ────────────────────────────────────────────────────────────────────────────────────────
def test_every_api_route_is_in_the_table():
    routes = set(api_routes())
    missing, stale = sorted(routes - set(API)), sorted(set(API) - routes)
    assert not missing, (
        f"{len(missing)} /api/v1 routes have no line in tests/test_permission_matrix.py API: {missing}. Add "
        "`\"METHOD /path\": Permission.X` naming the permission the route checks (ANY when every member may).")
    assert not stale, f"these lines of API name routes that no longer exist: {stale}"


def test_api_routes_answer_403_exactly_when_the_role_lacks_the_permission(world):
    client = Client()
    wrong = []
    for key, route in sorted(api_routes().items()):
        if key not in API:
            continue  # reported by test_every_api_route_is_in_the_table
        method, path = key.split(" ", 1)
        url = _fill(path, world["ids"]) + _query(route["schema"], route["operation"])
        body = _body(route["schema"], route["operation"])
        for role in ROLES:
            status = _call(client, method, url, body, **bearer(world["tokens"][role]))
            expected_denied = not _allowed(API[key], role)
            if (status == 403) != expected_denied:
                wrong.append(f"{key} as {role}: {status}, expected {'403' if expected_denied else 'not 403'}")
    assert not wrong, "\n".join(wrong)


def _app_statuses(world: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Each POST-capable /app/ route (a POST as the admin is not a 405) with the status every member gets."""
    clients = {}
    for role, member in world["members"].items():
        clients[role] = Client()
        clients[role].force_login(member.user)
    found: dict[str, dict[str, int]] = {}
    for route in app_patterns():
        url = _app_url(route, world["ids"])
        if _call(clients["admin"], "POST", url, form=True) == 405:
            continue
        found[route] = {role: _call(clients[role], "POST", url, form=True) for role in ROLES}
    return found


def test_app_post_routes_answer_403_exactly_when_the_role_lacks_the_permission(world):
    statuses = _app_statuses(world)
    missing, stale = sorted(set(statuses) - set(APP)), sorted(set(APP) - set(statuses))
    assert not missing, (
        f"{len(missing)} POST routes under /app/ have no line in tests/test_permission_matrix.py APP: "
        + "".join(f"\n  {route!r}: {statuses[route]}" for route in missing)
        + "\nAdd `\"route\": Permission.X` (the route text of src/threadline/web/urls.py, as above) naming the "
          "permission its view checks (admin_screen(Permission.X), or the action's require); ANY when every "
          "member may.")
    assert not stale, f"these lines of APP name routes that no longer exist or take no POST: {stale}"
    wrong = [f"{route} as {role}: {status}, expected {'403' if not _allowed(APP[route], role) else 'not 403'}"
             for route, answers in sorted(statuses.items()) for role, status in answers.items()
             if (status == 403) != (not _allowed(APP[route], role))]
    assert not wrong, "\n".join(wrong)
