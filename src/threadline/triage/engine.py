"""`triage_post`: the workspace's policy, the provider's reading when one is configured (falling back to the
word lists, with the reason saying so), then the rules in `classify.py`.

With a provider configured, `triage_post` makes an HTTP request (5 s timeout): call it from a job, not
inside a durable subscriber (events/registry.py)."""

from __future__ import annotations

import dataclasses

from threadline.triage.classify import judge, read
from threadline.triage.policy import Policy
from threadline.triage.providers import NAMES, ProviderUnavailable, reading
from threadline.triage.reasons import Reason
from threadline.triage.verdict import PublicPost, Verdict


def policy_for(workspace_id: int) -> Policy:
    from threadline.triage.queries import policy_for as stored

    return stored(workspace_id)


def triage_post(post: PublicPost, policy: Policy | None = None) -> Verdict:
    policy = policy or policy_for(post.workspace_id)
    words = read(post, policy)
    if not policy.provider:
        return judge(post, policy, words)
    name = NAMES.get(policy.provider.get("kind", ""), policy.provider.get("kind", ""))
    try:
        found = reading(post.text or "", post.language, policy.provider)
    except ProviderUnavailable as exc:
        return judge(post, policy, words, extra=(Reason("provider_fallback", provider=name, error=str(exc)),))
    if found.topics:
        words = dataclasses.replace(words, topics=tuple(dict.fromkeys(words.topics + found.topics)))
    return judge(post, policy, words, sentiment=found.sentiment, extra=(Reason("provider", provider=name),))
