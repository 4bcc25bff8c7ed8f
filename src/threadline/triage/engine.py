"""`triage_post`: the workspace's policy, the provider's reading when one is configured (falling back to the
word lists, with the reason saying so), then the rules in `classify.py`."""

from __future__ import annotations

from threadline.triage.classify import judge, read
from threadline.triage.policy import Policy
from threadline.triage.verdict import PublicPost, Verdict


def policy_for(workspace_id: int) -> Policy:
    from threadline.triage.queries import policy_for as stored

    return stored(workspace_id)


def triage_post(post: PublicPost, policy: Policy | None = None) -> Verdict:
    policy = policy or policy_for(post.workspace_id)
    reading = read(post, policy)
    return judge(post, policy, reading)
