"""The REST API at /api/v1: each domain's router is mounted here and nowhere else."""

from __future__ import annotations

from threadline.api import errors
from threadline.api.auth import BearerToken
from threadline.api.site import ThreadlineAPI

api = ThreadlineAPI(
    title="Threadline API",
    version="1.0.0",
    description=(
        "Contacts, conversations, messages, agents, teams, channels and webhooks of one workspace. "
        "Authenticate with `Authorization: Bearer <token>`. Errors are JSON `{\"code\", \"message\"}`. "
        "Lists are paged by an opaque `cursor` (pass a page's `next_cursor` to get the next one)."
    ),
    auth=BearerToken(),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
errors.install(api)

ROUTERS: list[tuple[str, str]] = [
    ("/", "threadline.api.me:router"),
    ("/contacts", "threadline.contacts.api:router"),
    ("/custom-fields", "threadline.contacts.api_fields:router"),
    ("/", "threadline.conversations.api:router"),
    ("/agents", "threadline.tenancy.api_people:router"),
    ("/agents", "threadline.tenancy.api:agents_router"),
    ("/teams", "threadline.tenancy.api:teams_router"),
    ("/tokens", "threadline.tenancy.api:tokens_router"),
    ("/roles", "threadline.tenancy.api_roles:router"),
    ("/channels", "threadline.channels.rest:router"),
    ("/inbound-events", "threadline.channels.rest:inbound_router"),
    ("/webhooks", "threadline.webhooks.api:router"),
    ("/replies", "threadline.replies.api:router"),
    ("/automations", "threadline.automations.api:router"),
    ("/language", "threadline.language.api:router"),
    ("/sla", "threadline.sla.api:router"),
    ("/routing", "threadline.routing.api:router"),
    ("/", "threadline.consent.api:router"),
    ("/", "threadline.conversations.api_reachability:router"),
    ("/", "threadline.conversations.api_templates:router"),
    ("/", "threadline.channels.whatsapp.api:router"),
    ("/", "threadline.channels.email.api:router"),
    ("/audit", "threadline.audit.api:router"),
    ("/", "threadline.privacy.api:router"),
    ("/", "threadline.redaction.api:router"),
    ("/search", "threadline.search.api:router"),
    ("/knowledge", "threadline.knowledge.api:router"),
    ("/sso", "threadline.sso.api:router"),
    ("/analytics/alerts", "threadline.analytics.api_alerts:router"),
    ("/analytics/reports", "threadline.analytics.api_reports:router"),
    ("/analytics", "threadline.analytics.api:router"),
    ("/surveys", "threadline.surveys.api:router"),
    ("/triage", "threadline.triage.api:router"),
    ("/translation", "threadline.translation.api:router"),
    ("/jira", "threadline.jira.api:router"),
    ("/social", "threadline.social.api:router"),
    ("/panel-apps", "threadline.panelapps.api:router"),
    ("/imports", "threadline.migration.api:router"),
    ("/crises", "threadline.crisis.api:router"),
    ("/crm", "threadline.crm.api:router"),
    ("/outreach", "threadline.outreach.api:router"),
]

for prefix, path in ROUTERS:
    module, _sep, attr = path.partition(":")
    api.add_router(prefix, getattr(__import__(module, fromlist=[attr]), attr))
