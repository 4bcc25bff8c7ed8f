"""The public one-click unsubscribe page of outreach mail (RFC 8058). GET shows a confirm button (a link scanner
that follows links unsubscribes nobody); POST — the mail client's `List-Unsubscribe=One-Click` or the button —
records the consent withdrawal. No sign-in and no CSRF token: the signed link is the proof."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from threadline.outreach.actions import do_unsubscribe, read_unsubscribe_token
from threadline.outreach.models import OutreachDelivery


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    delivery_id = read_unsubscribe_token(token)
    delivery = (OutreachDelivery.objects.select_related("campaign", "channel", "message__identity", "contact",
                                                        "message__conversation", "workspace")
                .filter(pk=delivery_id).first() if delivery_id is not None else None)
    if delivery is None or delivery.message is None:
        return render(request, "outreach/unsubscribe.html", {"error": True}, status=404)
    context = {"workspace": delivery.workspace.name, "address": delivery.address}
    with translation.override(delivery.contact.language or translation.get_language()):
        if request.method == "POST":
            with transaction.atomic():
                do_unsubscribe(delivery)
            return render(request, "outreach/unsubscribe.html", {**context, "done": True})
        return render(request, "outreach/unsubscribe.html", context)
