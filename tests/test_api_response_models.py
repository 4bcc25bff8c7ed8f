"""Operations share one response model per schema (threadline.api.response_models): ninja built one per
operation and status code, ~2,700 pydantic models at every start of a process that loads the URLconf."""

from __future__ import annotations

from threadline.api.errors import ERROR_STATUSES, ErrorOut
from threadline.api.urls import api


def operations():
    for _prefix, router in api._routers:  # noqa: SLF001 - ninja keeps the mounted routers there
        for view in router.path_operations.values():
            yield from view.operations


def test_every_operation_answers_its_errors_with_one_shared_model():
    wrappers = {id(op.response_models[status]) for op in operations() for status in ERROR_STATUSES
                if status in op.response_models}
    assert len(wrappers) == 1
    model = next(op.response_models[400] for op in operations() if 400 in op.response_models)
    assert model.model_fields["response"].annotation is ErrorOut


def test_distinct_schemas_keep_models_of_their_own():
    models = {}
    for op in operations():
        for model in op.response_models.values():
            if model is not None:
                models.setdefault(id(model), model)
    schemas = [m.model_fields["response"].annotation for m in models.values()]
    assert len(models) > 100  # one per success schema of the API
    assert len(schemas) == len({repr(s) for s in schemas})  # no schema wrapped twice


def test_a_shared_model_still_validates_what_it_wraps(api):
    answer = api.get("/api/v1/conversations/999999999")
    assert answer.status_code == 404
    assert set(answer.json()) >= {"code", "message"}
