"""django-ninja names OpenAPI components by class name and silently lets a later schema overwrite an earlier
one of the same name; so every schema class of the project must have a name of its own."""

from __future__ import annotations

import collections

from pydantic import BaseModel

import threadline.api.urls  # noqa: F401 - mounts every router, importing every schema


def subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]


def test_schema_class_names_are_unique():
    modules: dict[str, set[str]] = collections.defaultdict(set)
    for cls in subclasses(BaseModel):
        if cls.__module__.startswith("threadline."):
            modules[cls.__name__].add(cls.__module__)
    assert {name: sorted(m) for name, m in modules.items() if len(m) > 1} == {}


def test_conversation_shows_its_sla_state(api):
    schema = api.get("/api/v1/openapi.json").json()
    assert "sla_state" in schema["components"]["schemas"]["ConversationOut"]["properties"]
