"""/healthz (the process answers), /readyz (database and queue reachable), /metrics (Prometheus), and the
checks of `threadline doctor`, which share the same probes."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from threadline.core import metrics


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"database: {exc}"
    return None


def check_queue() -> str | None:
    from threadline.jobs.models import Job
    from threadline.jobs.scheduler import DEPTH_SOURCES

    try:
        Job.objects.exists()
        for source in DEPTH_SOURCES:  # the other queues are readable too (the intake file, ADR 0008)
            source()
    except Exception as exc:  # noqa: BLE001
        return f"queue: {exc}"
    return None


def check_redis() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"redis: {exc}"
    return None


def readyz(request: HttpRequest) -> HttpResponse:
    problems = [p for p in (check_database(), check_queue(), check_redis()) if p]
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ready"})


def metrics_allowed(request: HttpRequest) -> bool:
    """With THREADLINE_METRICS_TOKEN: only `Authorization: Bearer <token>`. Without: only loopback clients
    (a Prometheus on the same host or through an SSH tunnel), never the internet."""
    import hmac
    import ipaddress

    token = settings.THREADLINE.get("METRICS_TOKEN") or ""
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    from threadline.core.client_address import client_address

    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    from threadline.jobs.scheduler import refresh_queue_depth

    if not metrics_allowed(request):
        response = JsonResponse({"code": "forbidden", "message": "Metrics need THREADLINE_METRICS_TOKEN "
                                 "(Authorization: Bearer) or a loopback client."}, status=403)
        if settings.THREADLINE.get("METRICS_TOKEN"):
            response.status_code = 401
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response

    refresh_queue_depth()
    return HttpResponse(metrics.export(), content_type=CONTENT_TYPE_LATEST)


# ── threadline doctor ───────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def check_data_dir() -> Check:
    directory = settings.DATA_DIR
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check("data directory", False, f"{directory}: {_first_line(exc)}")
    return Check("data directory", True, f"{directory} is writable")


def check_database_and_migrations() -> list[Check]:
    from django.db.migrations.executor import MigrationExecutor

    if connection.vendor == "postgresql":
        connection.settings_dict.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    name = f"{connection.vendor} {connection.settings_dict.get('NAME')}"
    problem = check_database()
    if problem:
        return [Check("database", False, f"{name}: {problem.removeprefix('database: ').splitlines()[0]}"),
                Check("migrations", False, "not checked: the database is unreachable")]
    checks = [Check("database", True, f"{name} answers")]
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001
        return [*checks, Check("migrations", False, _first_line(exc))]
    if pending:
        checks.append(Check("migrations", False, f"{len(pending)} not applied: run `threadline migrate`"))
    else:
        checks.append(Check("migrations", True, "all applied"))
    return checks


def check_job_queue() -> Check:
    from threadline.jobs.models import Job

    try:
        waiting = Job.objects.filter(state=Job.State.QUEUED).count()
        dead = Job.objects.filter(state=Job.State.DEAD).count()
    except Exception as exc:  # noqa: BLE001
        return Check("job queue", False, _first_line(exc))
    return Check("job queue", True, f"{waiting} queued, {dead} dead letters")


def check_redis_configured() -> Check:
    if not settings.REDIS_URL:
        return Check("redis", True, "not configured (embedded mode)")
    problem = check_redis()
    if problem:
        return Check("redis", False, problem.removeprefix("redis: "))
    return Check("redis", True, "answers")


def check_secret_key() -> Check:
    key = settings.SECRET_KEY or ""
    if len(key) < 32:
        return Check("secret key", False, "missing or shorter than 32 characters")
    where = "THREADLINE_SECRET_KEY" if os.environ.get("THREADLINE_SECRET_KEY") else "the data directory"
    return Check("secret key", True, f"present (from {where})")


def check_public_url() -> Check:
    url = settings.PUBLIC_URL
    parsed = urlparse(url)
    try:
        port_ok = parsed.port is None or parsed.port > 0
    except ValueError:
        port_ok = False
    if parsed.scheme not in {"http", "https"} or not parsed.hostname or not port_ok or parsed.query or parsed.fragment:
        return Check("public URL", False, f"{url!r} is not an http(s) URL like https://support.example.com")
    return Check("public URL", True, url)


def doctor_checks() -> list[Check]:
    """Every check of `threadline doctor`, in the order shown (settings loaded, or we would not be here)."""
    from threadline.search.health import check_search_index

    checks = [
        Check("settings", True, f"loaded ({settings.SETTINGS_MODULE})"),
        check_data_dir(),
        *check_database_and_migrations(),
        check_job_queue(),
        check_redis_configured(),
        check_secret_key(),
        check_public_url(),
    ]
    return [*checks, check_search_index()]


def render_table(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'check'.ljust(width)}  status  detail", f"{'-' * width}  ------  {'-' * 40}"]
    lines += [f"{c.name.ljust(width)}  {'ok' if c.ok else 'FAIL':6}  {c.detail}" for c in checks]
    return "\n".join(lines)
