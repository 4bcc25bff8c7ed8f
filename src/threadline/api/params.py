"""Typed request parameters for routers; they live in `core.schemas` so domains' `schemas.py` may use them
without importing the API layer (see tests/test_architecture.py). Import them from there."""

from __future__ import annotations

from threadline.core.schemas import MAX_ID, Id, Input, PageQuery

__all__ = ["MAX_ID", "Id", "Input", "PageQuery"]
