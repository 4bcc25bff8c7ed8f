"""`serve` brings the database schema up to date in a process of its own, and only when a migration is due.

Running Django's `migrate` inside the server kept what it loaded for as long as the server ran: every
migration module, the migration graph and the historical models it renders (measured with
bench/startup_memory.py's method, one process: +38 MiB after migrating a new database, +8.6 MiB after a
`migrate` with nothing to apply, none of it given back by a collection). Issue 11 counts a node's memory, and
a server runs for months, so `serve` now asks first, from the migration files' names and the
`django_migrations` table, without importing a migration, whether any is not applied (`pending`); only then
does it run `threadline migrate` as a child process (`migrate_in_child`), which exits with what it loaded.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from importlib import import_module

from django.apps import apps
from django.core.management import CommandError
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder


def migration_names() -> set[tuple[str, str]]:
    """(app label, migration name) of every migration file of the installed apps, read as Django's loader
    lists them (the modules of each app's migrations package whose names start with neither _ nor ~)."""
    names: set[tuple[str, str]] = set()
    for config in apps.get_app_configs():
        module_name, _explicit = MigrationLoader.migrations_module(config.label)
        if module_name is None:
            continue
        try:
            package = import_module(module_name)
        except ModuleNotFoundError:
            continue
        names.update((config.label, info.name) for info in pkgutil.iter_modules(getattr(package, "__path__", ()))
                     if not info.ispkg and info.name[0] not in "_~")
    return names


def pending() -> bool:
    """Whether some migration file is not recorded as applied (or the database has no record yet). A
    squashed migration recorded under the names it replaces counts as pending: `migrate` then decides, at
    the cost of a process, never of a missed migration."""
    try:
        applied = set(MigrationRecorder(connection).applied_migrations())
    except DatabaseError:
        return True
    return not migration_names() <= applied


def migrate_in_child() -> None:
    """`threadline migrate` in a process of its own, with this process's environment (its settings: the
    command sets the settings module itself when it is not set); its output and errors go where this
    process's go. Raises CommandError when it fails."""
    command = [sys.executable, "-m", "threadline.config.cli", "migrate", "--skip-checks", "--no-input",
               "--verbosity", "0"]
    code = subprocess.run(command, check=False).returncode  # noqa: S603 - our own interpreter
    if code:
        raise CommandError(f"`threadline migrate` exited with {code}: the database schema is not up to date")
