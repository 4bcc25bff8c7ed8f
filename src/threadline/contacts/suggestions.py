"""Merge suggestions: contacts that may be the same person, with reasons, never merged automatically."""

from __future__ import annotations

from threadline.contacts.models import Contact


def suggest_for(contact: Contact) -> list[object]:
    """Record suggestions for a newly created contact. (Filled in by the identity work.)"""
    return []
