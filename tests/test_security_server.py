"""Issue 10, hole 7, on a real `threadline serve`: an https PUBLIC_URL gives Secure cookies and HSTS, /metrics
asks for its token, and neither the setup link nor a visitor token reaches the log (uvicorn's access lines)."""

from __future__ import annotations

import re

import httpx
import pytest

from threadline.testing.server import ServerProcess, migrated_copy

pytestmark = pytest.mark.slow

METRICS_TOKEN = "metrics-" + "m" * 24


@pytest.fixture
def database_url(request, tmp_path_factory, tmp_path):
    with migrated_copy(request, tmp_path_factory, tmp_path / "data") as url:
        yield url


def test_https_cookies_hsts_metrics_token_and_no_secrets_in_the_log(tmp_path, database_url):
    with ServerProcess(tmp_path / "data", database_url=database_url,
                       THREADLINE_PUBLIC_URL="https://support.example.test",
                       THREADLINE_METRICS_TOKEN=METRICS_TOKEN, THREADLINE_LOG_LEVEL="INFO") as server:
        server.start()
        login = httpx.get(f"{server.url}/login")
        assert login.status_code == 200
        cookies = login.headers.get_list("set-cookie")
        assert cookies and all("; Secure" in c for c in cookies), cookies
        assert login.headers["strict-transport-security"].startswith("max-age=31536000")
        assert "script-src 'self'" in login.headers["content-security-policy"]

        assert httpx.get(f"{server.url}/metrics").status_code == 401
        metrics = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert metrics.status_code == 200

        link = re.search(r"https://support\.example\.test(/setup/([\w-]+)/)", server.output())
        assert link, server.output()
        path, secret = link.group(1), link.group(2)
        assert httpx.get(f"{server.url}{path}").status_code == 200
        httpx.get(f"{server.url}/setup/guessed-setup-secret/")
        httpx.get(f"{server.url}/widget/1/attachments/2?token=visitor-secret-token&lang=he")
        httpx.get(f"{server.url}/ws/webchat/1/?token=socket-secret-token")
        assert server.stop() == 0
        log = server.errors()
        assert "GET /login" in log  # the access log is on
        assert "/setup/[redacted]/" in log and "token=[redacted]&lang=he" in log
        for leaked in (secret, "guessed-setup-secret", "visitor-secret-token", "socket-secret-token", METRICS_TOKEN):
            assert leaked not in log, leaked
