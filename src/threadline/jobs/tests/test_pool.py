"""The worker pool: models loaded before any thread takes a job (issue 11: the first Thai message loaded
PyThaiNLP's dictionary inside a batch transaction, and every acknowledgement waited for it)."""

from __future__ import annotations

import threading

from threadline.core.warmup import WORKER_STEPS
from threadline.jobs.pool import WorkerPool
from threadline.jobs.worker import Worker
from threadline.language import detection


def test_the_pool_warms_up_before_any_thread_runs_a_job(monkeypatch):
    order: list[str] = []
    lock = threading.Lock()

    def note(what: str) -> None:
        with lock:
            order.append(what)

    def warm() -> None:
        threading.Event().wait(0.2)  # slow: a thread that did not wait for it would run first
        note("warm")

    monkeypatch.setattr(Worker, "run_forever", lambda self: note("run"))
    pool = WorkerPool(3, warm_up=[warm]).start()
    pool.stop()  # the workers' loops are replaced; this ends PostgreSQL's LISTEN thread too
    assert pool.join(timeout=10) == []
    assert order == ["warm", "run", "run", "run"]


def test_a_failing_warm_up_still_starts_the_workers(monkeypatch):
    ran: list[str] = []
    monkeypatch.setattr(Worker, "run_forever", lambda self: ran.append("run"))

    def broken() -> None:
        raise OSError("model file missing")

    pool = WorkerPool(2, warm_up=[broken]).start()
    pool.stop()  # the workers' loops are replaced; this ends PostgreSQL's LISTEN thread too
    assert pool.join(timeout=10) == []
    assert ran == ["run", "run"]


def test_the_worker_s_warm_up_loads_the_language_model_and_the_thai_dictionary():
    from threadline.search import analysis

    detection._base_identifier.cache_clear()
    detection._identifier_for.cache_clear()  # copies of the model, kept by earlier tests
    analysis._thai_tokenizer.cache_clear()
    for step in WORKER_STEPS:
        step()
    assert detection._base_identifier.cache_info().currsize == 1
    assert analysis._thai_tokenizer.cache_info().currsize == 1  # the segmenter over the 62,000-word dictionary


def test_a_pool_stopped_while_it_warms_up_skips_the_steps_not_begun(monkeypatch):
    """A server stopped just after its start no longer waits for the templates and the heap to settle."""
    ran: list[str] = []
    began = threading.Event()
    monkeypatch.setattr(Worker, "run_forever", lambda self: ran.append("run"))

    def first() -> None:
        began.set()
        threading.Event().wait(0.3)  # the pool is stopped meanwhile
        ran.append("first")

    pool = WorkerPool(2, warm_up=[first, lambda: ran.append("second")]).start()
    assert began.wait(10)
    pool.stop()
    assert pool.join(timeout=10) == []
    assert ran[0] == "first" and "second" not in ran and ran.count("run") == 2
