"""Prometheus metrics: every counter Threadline exports is defined here and served at /metrics."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "threadline_http_requests_total", "HTTP requests served", ["method", "status"]
)
HTTP_LATENCY = Histogram("threadline_http_request_seconds", "HTTP request latency", ["method"])
INBOUND_MESSAGES = Counter(
    "threadline_inbound_messages_total", "Inbound messages stored, by channel kind", ["channel"]
)
TASK_FAILURES = Counter("threadline_task_failures_total", "Task attempts that raised", ["task"])
TASK_RUNS = Counter("threadline_task_runs_total", "Task attempts finished", ["task", "outcome"])
QUEUE_DEPTH = Gauge("threadline_queue_depth", "Jobs waiting, by state", ["state"])
BOT_PLATFORM_TURNS = Counter(
    "threadline_bot_platform_turns_total", "Turns sent to an external bot platform, by kind and outcome",
    ["platform", "outcome"],
)


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        HTTP_LATENCY.labels(request.method).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(request.method, str(response.status_code)).inc()
        return response
