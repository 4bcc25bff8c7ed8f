"""The help center's two public forms: article feedback and "contact us". Both are plain HTML forms (CSRF
token, no JavaScript); a bot that fills the hidden `website` field is told "thank you" and nothing is stored;
each submission counts against throttles per client address (core/throttle.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from threadline.core.throttle import Budget, Throttle

# a reader may answer about one article a few times an hour; one address may send 30 answers an hour
FEEDBACK = Throttle("helpcenter-feedback", per_account=Budget(free=5, memory=3600, cap=3600),
                    per_client=Budget(free=30, memory=3600, cap=3600))
# a few messages a day from one address to one email, 20 a day from one address in all
CONTACT = Throttle("helpcenter-contact", per_account=Budget(free=5, memory=24 * 3600, cap=6 * 3600),
                   per_client=Budget(free=20, memory=24 * 3600, cap=6 * 3600))

MAX_COMMENT = 2000
MAX_MESSAGE = 20_000
MAX_FILES = 5
HONEYPOT = "website"


class Honeypot(forms.Form):
    website = forms.CharField(required=False, max_length=500)

    def is_bot(self) -> bool:
        return bool((self.data.get(HONEYPOT) or "").strip())


class FeedbackForm(Honeypot):
    helpful = forms.ChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))],
                                error_messages={"required": _("Answer yes or no."),
                                                "invalid_choice": _("Answer yes or no.")})
    comment = forms.CharField(required=False, max_length=MAX_COMMENT, strip=True)
    email = forms.EmailField(required=False, max_length=254,
                             error_messages={"invalid": _("Enter a valid email address.")})

    def wants_answer(self) -> bool:
        """A "no" with a comment and an address: the comment becomes a conversation."""
        data = self.cleaned_data
        return data["helpful"] == "no" and bool(data["comment"]) and bool(data["email"])


class ContactForm(Honeypot):
    name = forms.CharField(required=False, max_length=200, strip=True)
    email = forms.EmailField(max_length=254, error_messages={"required": _("Enter your email address."),
                                                             "invalid": _("Enter a valid email address.")})
    subject = forms.CharField(max_length=300, strip=True, error_messages={"required": _("Enter a subject.")})
    message = forms.CharField(max_length=MAX_MESSAGE, strip=True,
                              error_messages={"required": _("Write your message.")})
