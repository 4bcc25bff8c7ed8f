"""Where a customer's message from the help center goes: the portal's `do_submit_request` (the portal channel's
inbound pipeline). Without the portal app the forms degrade: feedback is recorded only, and "contact us" says
that it is not available."""

from __future__ import annotations

from typing import Any

from django.apps import apps


def available() -> bool:
    return apps.is_installed("threadline.portal")


def submit_request(**kwargs: Any) -> Any:
    """`portal.actions.do_submit_request(**kwargs)`; the caller owns the transaction."""
    from threadline.portal.actions import do_submit_request

    return do_submit_request(**kwargs)
