"""Shared admin helpers: every model is registered with useful columns and read-only audit fields."""

from __future__ import annotations

from django.contrib import admin
from django.db import models


def register(model: type[models.Model], *, list_display: tuple[str, ...] = (), search: tuple[str, ...] = (),
             filters: tuple[str, ...] = (), readonly: tuple[str, ...] = ()) -> None:
    fields = {f.name for f in model._meta.get_fields()}
    stamps = tuple(f for f in ("created_at", "updated_at") if f in fields)
    attrs = {
        "list_display": ("id", *list_display) if list_display else ("id", "__str__"),
        "search_fields": search,
        "list_filter": filters,
        "readonly_fields": (*stamps, *readonly),
        "list_select_related": False,
        "raw_id_fields": tuple(
            f.name for f in model._meta.fields if isinstance(f, models.ForeignKey | models.OneToOneField)
        ),
    }
    admin.site.register(model, type(f"{model.__name__}Admin", (admin.ModelAdmin,), attrs))
