"""Prometheus metrics: every counter Threadline exports is defined here and served at /metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric

HTTP_REQUESTS = Counter(
    "threadline_http_requests_total", "HTTP requests served", ["method", "status"]
)
HTTP_LATENCY = Histogram("threadline_http_request_seconds", "HTTP request latency", ["method"])
INBOUND_MESSAGES = Counter(
    "threadline_inbound_messages_total", "Inbound messages stored, by channel kind", ["channel"]
)
TASK_FAILURES = Counter("threadline_task_failures_total", "Task attempts that raised", ["task"])
TASK_RUNS = Counter("threadline_task_runs_total", "Task attempts finished", ["task", "outcome"])
QUEUE_DEPTH = Gauge("threadline_queue_depth", "Jobs waiting, by state (\"intake\": payloads not moved yet)", ["state"])
INTAKE_AGE = Gauge("threadline_intake_oldest_seconds", "Age of the oldest payload waiting in the intake (ADR 0008)")
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


# ── the worker process's metrics (serve with THREADLINE_WORKER_PROCESS) ─────────────────────────────────
_child_families: list[Metric] = []


def snapshot() -> list[Metric]:
    """This process's Threadline metric families, for the web process to merge (`remember_child`)."""
    return [family for family in REGISTRY.collect() if family.name.startswith("threadline_")]


def remember_child(families: list[Metric]) -> None:
    """The latest snapshot of the worker process's metrics (sent every second while it runs)."""
    global _child_families
    _child_families = list(families)


class _Merged:
    """This process's registry with the worker process's samples added: counters and histograms of the same
    name and labels summed (each process counts its own part), gauges and `_created` kept from here."""

    def collect(self) -> Any:
        children = {family.name: family for family in _child_families}
        for family in REGISTRY.collect():
            child = children.pop(family.name, None)
            if child is None:
                yield family
                continue
            merged = Metric(family.name, family.documentation, family.type, family.unit)
            values = {(s.name, tuple(sorted(s.labels.items()))): s for s in family.samples}
            for sample in child.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                mine = values.get(key)
                if mine is None:
                    values[key] = sample
                elif family.type != "gauge" and not sample.name.endswith("_created"):
                    values[key] = mine._replace(value=mine.value + sample.value)
            merged.samples = list(values.values())
            yield merged
        yield from children.values()


def export() -> bytes:
    """The text `/metrics` serves: this process's metrics and its worker process's."""
    return generate_latest(_Merged()) if _child_families else generate_latest()  # type: ignore[arg-type]
