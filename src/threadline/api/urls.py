"""The REST API at /api/v1: each domain's router is mounted here and nowhere else."""

from __future__ import annotations

from ninja import NinjaAPI

from threadline.api import errors
from threadline.api.auth import BearerToken

api = NinjaAPI(
    title="Threadline API",
    version="1.0.0",
    description="Contacts, conversations, messages, agents, teams, channels and webhooks of one workspace.",
    auth=BearerToken(),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
errors.install(api)

ROUTERS: list[tuple[str, str]] = [
    ("/", "threadline.consent.api:router"),
    ("/", "threadline.conversations.api_reachability:router"),
    ("/", "threadline.channels.whatsapp.api:router"),
    ("/", "threadline.api.me:router"),
]

for prefix, path in ROUTERS:
    module, _sep, attr = path.partition(":")
    api.add_router(prefix, getattr(__import__(module, fromlist=[attr]), attr))
