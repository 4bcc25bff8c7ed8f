"""/healthz (the process answers), /readyz (database and queue reachable), /metrics (Prometheus)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


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

    try:
        Job.objects.exists()
    except Exception as exc:  # noqa: BLE001
        return f"queue: {exc}"
    return None


def check_redis() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"redis: {exc}"
    return None


def readyz(request: HttpRequest) -> HttpResponse:
    problems = [p for p in (check_database(), check_queue(), check_redis()) if p]
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ready"})


def metrics_view(request: HttpRequest) -> HttpResponse:
    from threadline.jobs.scheduler import refresh_queue_depth

    refresh_queue_depth()
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
