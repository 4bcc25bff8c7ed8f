"""The readers `threadline import <source>` can build, from the command's options."""

from __future__ import annotations

import os
from typing import Any

from threadline.migration import records as r
from threadline.migration.client import SourceClient

SECRET_ENV = {"zendesk": "ZENDESK_API_TOKEN", "freshdesk": "FRESHDESK_API_KEY", "helpscout": "HELPSCOUT_APP_SECRET"}
DEFAULT_URL = {"helpscout": "https://api.helpscout.net"}


def build_reader(source: str, *, url: str, user: str = "", secret: str = "", page_size: int = 100,
                 client: SourceClient | None = None) -> r.SourceReader:
    """`user` is Zendesk's agent email or Help Scout's app id; `secret` the API token, API key or app secret
    (else read from SECRET_ENV[source])."""
    secret = secret or os.environ.get(SECRET_ENV[source], "")
    url = url or DEFAULT_URL.get(source, "")
    if not url or not secret or (source in ("zendesk", "helpscout") and not user):
        raise ValueError(missing(source))
    if source == "zendesk":
        from threadline.migration.zendesk import ZendeskReader

        return ZendeskReader(url, user, secret, client=client, page_size=page_size)
    if source == "freshdesk":
        from threadline.migration.freshdesk import FreshdeskReader

        return FreshdeskReader(url, secret, client=client, page_size=page_size)
    from threadline.migration.helpscout import HelpScoutReader

    return HelpScoutReader(url, user, secret, client=client)


def missing(source: str) -> str:
    needs: dict[str, Any] = {
        "zendesk": "--url https://SUBDOMAIN.zendesk.com --user AGENT_EMAIL and the API token (--secret or ZENDESK_API_TOKEN)",
        "freshdesk": "--url https://DOMAIN.freshdesk.com and the API key (--secret or FRESHDESK_API_KEY)",
        "helpscout": "--user APP_ID and the app secret (--secret or HELPSCOUT_APP_SECRET)",
    }
    return f"{source} needs {needs[source]}."
