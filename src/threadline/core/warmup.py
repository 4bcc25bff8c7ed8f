"""What the worker would otherwise load lazily inside its first batch transactions, loaded before it.

The language identifier's model and the Thai segmenter's dictionary each take about half a second of CPU
to load on first use (the Thai segmenter sorts a dictionary of 62,000 words). Loaded by the first message that needs them,
that time was spent inside a batch transaction, holding SQLite's write lock while every webhook
acknowledgement waited (issue 11). The worker pool runs `warm_up` before its threads take a job.
"""

from __future__ import annotations


def warm_up() -> None:
    from threadline.language.detection import detect
    from threadline.search.analysis import index_text

    detect("Hello, my order has not arrived yet", ("en", "cs"))
    index_text("สวัสดีค่ะ คำสั่งซื้อ")
