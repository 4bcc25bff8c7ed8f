"""One response model per response schema, not one per operation and status code.

django-ninja (1.7) wraps the schema of each status code of each operation in a new pydantic model as the
operation is declared (`Operation._create_response_model`: a `NinjaResponseSchema` whose one field is the
schema). Every operation here declares `ErrorOut` for nine 4xx codes (`api.errors.responses`), so loading the
URLconf built 2,713 such models for 153 distinct schemas: about 1 s of CPU at each start of a process that
loads it (`serve` and its worker process, `migrate`'s system checks, every test worker and test server).

The wrapper is a function of the schema alone, and ninja only reads it (to validate a response, to describe it
in the OpenAPI document), so the same schema gets the same wrapper: `install()`, from `ApiConfig.ready`,
before any router module is imported. A schema that cannot be a dictionary key gets its own, as before.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from ninja.operation import Operation

_MODELS: dict[Any, Any] = {}
_GUARD = threading.Lock()


def install() -> None:
    """Make ninja's operations share one response model per schema (idempotent)."""
    create = Operation._create_response_model  # noqa: SLF001 - the one place ninja builds these
    if getattr(create, "shared_per_schema", False):
        return

    @functools.wraps(create)
    def shared(self: Operation, response_param: Any) -> Any:
        try:
            return _MODELS[response_param]
        except KeyError:
            pass
        except TypeError:  # unhashable: a model of its own
            return create(self, response_param)
        with _GUARD:
            if response_param not in _MODELS:
                _MODELS[response_param] = create(self, response_param)
            return _MODELS[response_param]

    shared.shared_per_schema = True  # type: ignore[attr-defined]
    Operation._create_response_model = shared  # type: ignore[method-assign] # noqa: SLF001
