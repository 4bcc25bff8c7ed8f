"""Browser tests and benchmarks: a real `threadline serve`, Debian's Chromium driven by Playwright, and a
customer's web site (another origin) that embeds the widget.

Chromium is Debian's, never one Playwright downloads: the headless shell of the `chromium-headless-shell`
package, which .ci/system-deps installs (Chromium's "old" headless mode, built without the browser's user
interface: the 65 browser tests took 21 % less wall time and 20 % less CPU than with the `chromium` package's
`--headless`, docs/performance.md), else the `chromium` package's browser.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from threadline.testing.server import ServerProcess
from threadline.testing.serving import Handler as QuickHandler
from threadline.testing.serving import serve_in_thread, stop_serving

CHROMIUM = shutil.which("chromium-headless-shell") or shutil.which("chromium") or "/usr/bin/chromium-headless-shell"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "orchid-lantern-47-quietly"
ADMIN_EMAIL = "ada@acme.example"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def private_redis_url() -> str | None:
    """THREADLINE_REDIS_URL on another database number, so a server started by a test shares no channel
    groups or presence keys with servers other tests start at the same time (ids repeat across databases)."""
    url = os.environ.get("THREADLINE_REDIS_URL")
    if not url:
        return None
    return urlunparse(urlparse(url)._replace(path=f"/{random.randint(1, 15)}"))  # noqa: S311 - not a secret


@contextlib.contextmanager
def threadline_server(data_dir: Path, database_url: str | None, **env: str) -> Iterator[ServerProcess]:
    """`threadline serve` with an admin who can sign in (ADMIN_EMAIL / PASSWORD), allowed to reach the tests'
    loopback relays and receivers (THREADLINE_OUTBOUND_ALLOW_PRIVATE, as the in-process tests are)."""
    extra = {"THREADLINE_ADMIN_EMAIL": ADMIN_EMAIL, "THREADLINE_ADMIN_PASSWORD": PASSWORD,
             "THREADLINE_OUTBOUND_ALLOW_PRIVATE": "1", **env}
    redis = private_redis_url()
    if redis:
        extra["THREADLINE_REDIS_URL"] = redis
    with ServerProcess(data_dir, database_url=database_url, **extra) as server:
        server.start()
        yield server


SETUP = """
import json
from django.db import transaction
from threadline.channels.actions import do_create_channel
from threadline.tenancy.actions import do_add_agent
from threadline.tenancy.models import Membership
admin = Membership.objects.select_related("workspace", "user").get(user__email={admin!r})
with transaction.atomic():
    admin.user.name = "Ada Admin"
    admin.user.save()
    chat = do_create_channel(admin, "webchat", "Website", {config!r})
    email = do_create_channel(admin, "email", "Support mail", {{"address": "support@acme.example",
                              "relay_url": {relay!r}}}, routing_key="support@acme.example") if {relay!r} else None
    do_add_agent(admin.workspace, "bob@acme.example", name="Bob Builder", password={password!r})
print(json.dumps({{"channel_id": chat.pk, "secret": chat.config["secret"]}}))
"""


def set_up_workspace(server: ServerProcess, *, relay_url: str = "", **config: Any) -> dict[str, Any]:
    """A web chat channel (and an email channel sending through `relay_url`), and a second agent, Bob."""
    config = {"title": "Acme help", "greetings": {"en": "Hi! Ask us anything."}, **config}
    return server.python(SETUP.format(admin=ADMIN_EMAIL, config=config, relay=relay_url, password=PASSWORD))


SETTLED = ("() => document.readyState === 'complete'"
           " && !['starting', 'retrying'].includes(document.documentElement.dataset.state)")


def settle(page: Any) -> None:
    """Wait until the page is in the state a test checks: loaded (its stylesheets, scripts, images and frames:
    `load`) and, where its script starts something after that, that start done, as `<html data-state>` says:
    the workspace's socket caught up with no call or refresh it caused still under way (app.js), the chat
    widget's session and history (frame.js). Waiting for the network to be quiet instead costs at least 500 ms
    of nothing per page (Playwright's `networkidle`)."""
    page.wait_for_function(SETTLED)


def sign_in(page: Any, base_url: str, email: str = ADMIN_EMAIL) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/app/**")


class ShopSite:
    """A customer's web site on another origin (localhost vs 127.0.0.1), embedding the widget as documented.

    `identity`, when given, is passed to `Threadline("identify", …)` the way a web app would after sign-in.
    """

    def __init__(self, base_url: str, channel_id: int) -> None:
        self.base_url = base_url
        self.channel_id = channel_id
        self.identity: dict[str, Any] | None = None
        self.server: http.server.ThreadingHTTPServer | None = None

    def page(self) -> bytes:
        identify = f'Threadline("identify", {json.dumps(self.identity)});' if self.identity else ""
        return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme shop</title></head>
<body><h1>Acme shop</h1><p>Everything for your garden.</p>
<script>window.Threadline = window.Threadline || function () {{ (Threadline.q = Threadline.q || []).push(arguments); }};
Threadline("on", "error", function (e) {{ window.threadlineErrors = (window.threadlineErrors || []).concat([e]); }});
{identify}</script>
<script src="{self.base_url}/widget.js" data-channel="{self.channel_id}" async></script>
</body></html>""".encode()

    def start(self) -> ShopSite:
        site = self

        class Handler(QuickHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = site.page()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve_in_thread(self.server)
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://localhost:{self.server.server_address[1]}/"

    def stop(self) -> None:
        if self.server is not None:
            stop_serving(self.server)


def no_sideways_scroll(page: Any) -> None:
    """The page fits its viewport's width (a phone's 390 px): nothing scrolls sideways."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


AXE_RUN = """axe.run({resultTypes: ["violations"]}).then(results => ({
  passes: results.passes.length,
  violations: results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.slice(0, 5).map(node => node.target)})),
}))"""


def axe_findings(page: Any, impacts: tuple[str, ...] = ("critical", "serious")) -> list[dict[str, Any]]:
    """axe-core's violations of those impacts on the page: each one's id, impact, help and first five nodes.

    axe-core is the axe-playwright-python package's, run as its `Axe().run(page)` runs it (every rule, the
    same options), but the page answers only what a test reports instead of axe's whole result (every rule
    that passed or did not apply, with its description and a node each): ~45 ms less CPU per page, half of it
    in this process decoding the result (docs/performance.md, "Test suite time")."""
    from axe_playwright_python.base import AXE_SCRIPT

    page.evaluate(AXE_SCRIPT)
    results = page.evaluate(AXE_RUN)
    assert results["passes"], "axe-core did not run"
    return [v for v in results["violations"] if v["impact"] in impacts]
