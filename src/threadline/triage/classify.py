"""The offline judgement: category, sentiment, priority, decision and reasons for one post, from word lists,
patterns and the workspace policy. A provider's sentiment/category (`providers.py`) may replace the lexicon's
sentiment and category guess; the decision rules stay these.

Order of the rules (the first that holds decides the category): spam → abuse → troll → complaint → question →
praise → noise. Decision: spam and abuse are hidden, trolling and noise are not answered, anything showing
personal data (order numbers, emails, phone or card numbers) moves to private, complaints about an account's
own order/billing/delivery move to private, other complaints and questions are answered in public, praise is
thanked in public when it is strong, from a known customer or from a wide reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from threadline.triage import lexicons
from threadline.triage.policy import Policy
from threadline.triage.reasons import Reason
from threadline.triage.text import Hit, Lexicon, Token, links, mentions, personal_data, tokens
from threadline.triage.verdict import PublicPost, Verdict

SPAM_MIN_SCORE = 2
PRAISE_STRONG = 0.6
MAX_WORDS_SHOWN = 3


@lru_cache(maxsize=1)
def builtin() -> dict[str, Lexicon]:
    found = {name: Lexicon(getattr(lexicons, name.upper())) for name in
             ("question_openers", "question_anywhere", "complaint", "praise", "spam", "abuse", "troll", "urgent")}
    found["sentiment"] = Lexicon(lexicons.SENTIMENT)
    found["negators"] = Lexicon(lexicons.NEGATORS)
    found["topics"] = Lexicon(entry for entries in lexicons.TOPICS.values() for entry in entries)
    return found


@lru_cache(maxsize=1)
def _weights() -> dict[str, float]:
    return dict(lexicons.SENTIMENT)


@lru_cache(maxsize=1)
def _topic_of() -> dict[str, str]:
    return {entry: topic for topic, entries in lexicons.TOPICS.items() for entry in entries}


@lru_cache(maxsize=256)
def _lexicon(entries: tuple[str, ...]) -> Lexicon:
    return Lexicon(entries)


@dataclass(frozen=True)
class Reading:
    """What the words say, before the rules decide."""

    toks: list[Token]
    sentiment: float
    sentiment_words: tuple[str, ...]
    hits: dict[str, tuple[str, ...]]  # list name -> matched entries
    is_question: bool
    links: tuple[str, ...]
    personal: tuple[str, ...]
    topics: tuple[str, ...]
    exclamations: int


def _entries(hits: list[Hit], toks: list[Token], text: str) -> tuple[str, ...]:
    """The words matched, as the post wrote them (lowercased)."""
    return tuple(dict.fromkeys(text[toks[hit.first].start:toks[hit.last].end].lower() for hit in hits))


def lexicon_sentiment(toks: list[Token], text: str) -> tuple[float, tuple[str, ...]]:
    """Sum of word weights (turned round after a negator within three words), plus emphasis from "!",
    squashed into -1..1 as VADER does: s / sqrt(s² + 15)."""
    lexicon, weights = builtin()["sentiment"], _weights()
    hits = lexicon.find(toks)
    covered = {at for hit in hits for at in range(hit.first, hit.last + 1)}
    negated = {hit.first for hit in builtin()["negators"].find(toks)} - covered
    total, seen = 0.0, []
    for hit in hits:
        weight = weights[hit.entry]
        if any(at in negated for at in range(max(0, hit.first - 3), hit.first)) and not _has_negation(hit.entry):
            weight = -0.75 * weight
        total += weight
        seen.append(text[toks[hit.first].start:toks[hit.last].end].lower())
    if total:
        total += math.copysign(min(text.count("!") + text.count("！"), 3) * 0.3, total)
    return total / math.sqrt(total * total + 15), tuple(dict.fromkeys(seen))


def _has_negation(entry: str) -> bool:  # "not working", "לא הגיע", "ไม่ได้รับ" carry their own negation
    return any(part in lexicons.NEGATORS or part.startswith(("ไม่", "ne", "نر", "نم")) for part in entry.split())


def _is_question(text: str, toks: list[Token]) -> tuple[bool, tuple[str, ...]]:
    if "?" in text or "؟" in text or "？" in text:
        return True, ("?",)
    anywhere = builtin()["question_anywhere"].find(toks)
    if anywhere:
        return True, _entries(anywhere, toks, text)
    starts = {0} | {at for at, tok in enumerate(toks) if at and any(ch in ".!\n" for ch in text[toks[at - 1].end:tok.start])}
    openers = [hit for hit in builtin()["question_openers"].find(toks) if hit.first in starts]
    return bool(openers), _entries(openers, toks, text)


def read(post: PublicPost, policy: Policy) -> Reading:
    text = post.text or ""
    toks = tokens(text)
    lex = builtin()
    hits = {name: _entries(lex[name].find(toks), toks, text)
            for name in ("complaint", "praise", "spam", "abuse", "troll", "urgent")}
    for name, extra in (("spam", policy.spam_words), ("abuse", policy.abuse_words), ("urgent", policy.urgent_words)):
        if extra:
            hits[name] = tuple(dict.fromkeys(hits[name] + _entries(_lexicon(tuple(extra)).find(toks), toks, text)))
    topic_of = _topic_of()
    topics = [topic_of[hit.entry] for hit in lex["topics"].find(toks)]
    if policy.topic_words:  # a followed topic is named as the workspace wrote it
        topics += [hit.entry.rstrip("*") for hit in _lexicon(tuple(policy.topic_words)).find(toks)]
    sentiment, sentiment_words = lexicon_sentiment(toks, text)
    question, question_words = _is_question(text, toks)
    hits["question"] = question_words
    return Reading(toks, sentiment, sentiment_words, hits, question, tuple(links(text)), tuple(personal_data(text)),
                   tuple(dict.fromkeys(t.lower() for t in topics)), text.count("!"))


def _shown(words: tuple[str, ...]) -> list[str]:
    return list(words[:MAX_WORDS_SHOWN])


def categorise(post: PublicPost, reading: Reading, policy: Policy, sentiment: float) -> tuple[str, list[Reason]]:
    hits = reading.hits
    substance = bool(hits["complaint"] or reading.personal or (reading.topics and sentiment <= policy.complaint_below))
    spam_score = len(hits["spam"]) + (2 if reading.links and hits["spam"] else len(reading.links) and 1) \
        + (1 if len(mentions(post.text)) >= 5 else 0)
    if spam_score >= SPAM_MIN_SCORE and not post.known_customer and not hits["complaint"]:
        if reading.links and hits["spam"]:
            return "spam", [Reason("spam_link", links=reading.links[:2], words=_shown(hits["spam"]))]
        if hits["spam"]:
            return "spam", [Reason("spam_words", words=_shown(hits["spam"]))]
    if (reading.links and not post.known_customer and not substance and not reading.is_question
            and not hits["praise"]):
        return "spam", [Reason("spam_link_only", links=reading.links[:2])]
    if hits["abuse"] and not substance:
        return "abuse", [Reason("abuse", words=_shown(hits["abuse"]))]
    if hits["troll"] and not substance and not reading.is_question:
        return "abuse", [Reason("troll", words=_shown(hits["troll"]))]
    if hits["complaint"] or (sentiment <= policy.complaint_below and (reading.topics or reading.is_question
                                                                      or reading.sentiment_words)):
        reasons = [Reason("complaint", words=_shown(hits["complaint"])) if hits["complaint"]
                   else Reason("complaint_sentiment", words=_shown(reading.sentiment_words))]
        if hits["abuse"]:
            reasons.append(Reason("strong_language", words=_shown(hits["abuse"])))
        return "complaint", reasons
    if reading.is_question:
        return "question", [Reason("question", words=_shown(hits["question"]))]
    if hits["praise"] and sentiment >= policy.praise_above:
        return "praise", [Reason("praise", words=_shown(hits["praise"]))]
    return "noise", ([] if reading.personal else [Reason("noise")])


def decide(post: PublicPost, category: str, why: list[Reason], reading: Reading, policy: Policy,
           sentiment: float) -> tuple[str, list[Reason]]:
    if category == "abuse" and why[0].code == "troll":
        return "do_not_answer", []
    if category in ("spam", "abuse"):
        return "hide", []
    if reading.personal:
        return "move_private", [Reason("personal_data", kinds=list(reading.personal))]
    if category == "noise":
        return "do_not_answer", []
    if category == "complaint":
        private = [t for t in reading.topics if t in lexicons.ACCOUNT_TOPICS]
        if private:
            return "move_private", [Reason("account_topic", topics=private)]
        return "answer_public", [Reason("public_ack")]
    if category == "question":
        return "answer_public", [Reason("public_answer")]
    reach = post.author_reach or 0
    if sentiment >= PRAISE_STRONG or post.known_customer or reach >= policy.praise_reach:
        return "answer_public", [Reason("thanks")]
    return "do_not_answer", [Reason("thanks_not_needed")]


BASE_PRIORITY = {"complaint": 45, "question": 35, "praise": 15, "abuse": 5, "spam": 0, "noise": 0}


def prioritise(post: PublicPost, category: str, reading: Reading, policy: Policy,
               sentiment: float) -> tuple[int, list[Reason]]:
    """0..100: a base per category, + up to 20 for reach (log scale, full at the workspace's high reach),
    + up to 15 for negative sentiment, + 10 for a known customer, + 15 for urgent words, + 5 for followed
    topics. Spam is always 0."""
    if category == "spam":
        return 0, []
    reasons: list[Reason] = []
    score = float(BASE_PRIORITY[category])
    reach = max(post.author_reach or 0, 0)
    if reach:
        score += 20 * min(1.0, math.log10(reach + 1) / math.log10(max(policy.high_reach, 10) + 1))
        if reach >= policy.high_reach:
            reasons.append(Reason("reach", reach=f"{reach:,}"))
    if category in ("complaint", "question"):
        score += 15 * max(0.0, -sentiment)
    if post.known_customer:
        score += 10
        reasons.append(Reason("known_customer"))
    if reading.hits["urgent"]:
        score += 15
        reasons.append(Reason("urgent", words=_shown(reading.hits["urgent"])))
    followed = [t for t in reading.topics if t not in lexicons.TOPICS]
    if followed:
        score += 5
        reasons.append(Reason("topic", topics=followed[:MAX_WORDS_SHOWN]))
    if category in ("abuse", "noise"):
        score = min(score, 20)
    return max(0, min(100, round(score))), reasons


def judge(post: PublicPost, policy: Policy, reading: Reading | None = None, sentiment: float | None = None,
          extra: tuple[Reason, ...] = ()) -> Verdict:
    reading = reading or read(post, policy)
    sentiment = reading.sentiment if sentiment is None else max(-1.0, min(1.0, sentiment))
    category, why = categorise(post, reading, policy, sentiment)
    decision, how = decide(post, category, why, reading, policy, sentiment)
    priority, weight = prioritise(post, category, reading, policy, sentiment)
    return Verdict(category=category, sentiment=round(sentiment, 3), priority=priority, decision=decision,
                   reasons=tuple(why + how + weight) + tuple(extra), topics=reading.topics)
