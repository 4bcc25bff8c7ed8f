"""This process's PostgreSQL connection pool sized to its threads (the sizes come from config/env.py)."""

from __future__ import annotations

from django.db import connections

from threadline.config import env


def fit_pool(threads: int) -> None:
    """Room in the pool for `threads` background threads beside the web's share (`env.database_pool`), for a
    process whose thread count is only known from its command line (`threadline worker --concurrency N`).
    Nothing changes when THREADLINE_DB_POOL_MAX fixes the size or the pool is big enough already."""
    if env.get("DB_POOL_MAX"):
        return
    for alias in connections:
        connection = connections[alias]
        options = connection.settings_dict.get("OPTIONS") or {}
        pool = options.get("pool")
        wanted = env.database_pool(threads)
        if connection.vendor != "postgresql" or not pool or not wanted or wanted["max_size"] <= pool["max_size"]:
            continue
        connection.close()  # back to the old pool, which closes; the next connection comes from the new one
        connection.close_pool()
        options["pool"] = {**pool, "max_size": wanted["max_size"]}
