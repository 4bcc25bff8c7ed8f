"""Benchmark: what masking at ingest costs per message (pure functions, no database).

For a corpus of messages in English, Hebrew, Persian, Thai and Czech (a tenth of them carrying a card, an
IBAN or a national identifier), reports the time per message of `detectors.mask` over the text with all three
countries on, and of `payloads.rewrite_payload` over the message's raw JSON payload (the extra parse and dump
`channels.inbound.process_event` pays once per event), as median and 95th percentile over --rounds.
Not a test: nothing is asserted. Run `PYTHONPATH=src python bench/redaction.py --help`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from threadline.redaction import detectors
from threadline.redaction.payloads import rewrite_payload

PLAIN = [
    "Hi, my order 1001 has not arrived yet, can you check? Tracking 1Z999AA10123456784. Call +1 415 555 0132.",
    "שלום, ההזמנה שלי מספר 58213 עדיין לא הגיעה. הטלפון שלי 050-1234567, תודה רבה!",
    "سلام، سفارش شماره ۱۲۳۴ من هنوز نرسیده است. لطفا بررسی کنید. تاریخ ۱۴۰۵/۰۹/۱۲",
    "สวัสดีครับ สินค้าที่สั่งไปเมื่อวันที่ ๑๒/๑๒/๒๕๖๙ ยังไม่ได้รับครับ หมายเลขคำสั่งซื้อ ๘๘๒๑๓",
    "Dobrý den, faktura č. 2026-0481 má špatnou částku 12 400 Kč. Prosím o opravu.",
]
PII = [
    "My card is 4242 4242 4242 4242, exp 12/27",
    "ת.ז. 000000018 ו-IBAN IL62 0108 0000 0009 9999 999",
    "rodné číslo 736028/5163, účet CZ65 0800 0000 1920 0014 5399",
    "SSN 078-05-1120",
    "شماره کارت ۴۵۸۰-۴۵۸۰-۴۵۸۰-۴۵۸۰",
]


def corpus(size: int) -> list[str]:
    return [(PII[i % len(PII)] + " " if i % 10 == 0 else "") + PLAIN[i % len(PLAIN)] * (1 + i % 4)
            for i in range(size)]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1e6)
    return out


def report(name: str, samples: list[float]) -> None:
    samples.sort()
    say(f"{name}: median {statistics.median(samples):.1f} µs, p95 {samples[int(len(samples) * 0.95)]:.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = corpus(args.messages)
    payloads = [json.dumps({"message_id": f"m-{i}", "sender": {"kind": "email", "address": "d@example.com"},
                            "text": text}, ensure_ascii=False).encode() for i, text in enumerate(texts)]
    countries = ("CZ", "IL", "US")
    masking, rewriting = [], []
    for _ in range(args.rounds):
        masking += timed(lambda text: detectors.mask(text, countries), texts)
        rewriting += timed(lambda body: rewrite_payload(body, lambda s: detectors.mask(s, countries)[0]), payloads)
    found = sum(bool(detectors.find(text, countries)) for text in texts)
    say(f"{len(texts)} messages, {found} with an identifier, mean length "
          f"{statistics.mean(len(t) for t in texts):.0f} characters")
    report("mask(text)", masking)
    report("rewrite_payload(json)", rewriting)


if __name__ == "__main__":
    main()
