"""What the worker would otherwise load lazily inside its first batch transactions, loaded before it; and the
heap settled once it is loaded, so the garbage collector stops walking it.

The language identifier's model and the Thai segmenter's dictionary each take about half a second of CPU
to load on first use (the Thai segmenter sorts a dictionary of 62,000 words). Loaded by the first message that needs them,
that time was spent inside a batch transaction, holding SQLite's write lock while every webhook
acknowledgement waited (issue 11). The worker pool runs these steps (`WORKER_STEPS`, `SERVE_STEPS`) before its threads take a job.

`settle_heap` (issue 11, reads at size): a served process holds about 250,000 objects the garbage collector
tracks once Django, the URL patterns, the API schemas and the models above are loaded, none of which ever
becomes garbage. Every full (oldest generation) collection walked all of them: 100–200 ms on an idle 2-core
machine, up to a second loaded, with the GIL held, so the request that happened to trigger it (about one in a
hundred list pages) took that much longer. Frozen after start-up, they are left out of every collection
(`gc.freeze`); what requests allocate is collected as before. Measured (bench/reads.py, Server-Timing): the
collector's CPU per request at most 4-12 ms after, against 210-263 ms for a full collection before. A higher
threshold for the youngest generation (7,000 instead of 700) was tried and left out: fewer collections, but
each of the middle generation took up to 20-29 ms of CPU, worse for the p99.
"""

from __future__ import annotations

import gc


def load_language_model() -> None:
    from threadline.language.detection import detect

    detect("Hello, my order has not arrived yet", ("en", "cs"))


def load_thai_dictionary() -> None:
    from threadline.search.analysis import index_text

    index_text("สวัสดีค่ะ คำสั่งซื้อ")


def settle_heap() -> None:
    """Collect once, then move every surviving object out of the collector's generations (`gc.freeze`): for a
    long-running process, once its code and models are loaded. Cycles among the frozen objects that become
    garbage later are never collected; objects without cycles are freed by reference counting as always."""
    gc.collect()
    gc.freeze()


def load_screens() -> None:
    """Compile every template of the installed apps (the cached loader keeps them) and load each language's
    catalog, which the first requests would otherwise load after the heap was settled: left unfrozen, they
    were walked by every later full collection (24-81 ms of CPU once early in a run, bench/reads.py)."""
    from pathlib import Path

    from django.apps import apps
    from django.conf import settings
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.loader import get_template
    from django.utils import translation

    for config in apps.get_app_configs():
        folder = Path(config.path) / "templates"
        for path in sorted(folder.rglob("*.html")) if folder.is_dir() else ():
            try:
                get_template(path.relative_to(folder).as_posix())
            except (TemplateDoesNotExist, TemplateSyntaxError):  # a fragment only another template includes
                continue
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Conversations")


# What `threadline serve` (and its worker process) runs before it takes jobs, or once it listens, in steps:
# a pool stopped while it warms up skips the steps not yet begun (a server stopped just after its start
# waited 0.9-1.9 s for all of them, docs/performance.md).
WORKER_STEPS = (load_language_model, load_thai_dictionary)  # `threadline worker` renders no screen
SERVE_STEPS = (*WORKER_STEPS, load_screens, settle_heap)
# The worker process of `serve` (jobs/child.py) renders no screen either: the few templates its jobs render
# (emails, exports) compile on first use; compiling all of them took 12 MiB it never read (issue 11's memory).
CHILD_STEPS = (*WORKER_STEPS, settle_heap)


def warm_up_and_settle() -> None:
    """Every step of `SERVE_STEPS`: the web-only server's warm-up thread."""
    for step in SERVE_STEPS:
        step()
