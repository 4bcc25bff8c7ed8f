"""The `threadline` command: `serve`, `worker`, `scheduler`, `migrate`, `createadmin`, `token`, `doctor`,
`channel`, and any other Django management command (`threadline shell`, `threadline makemigrations` ...)."""

from __future__ import annotations

import os
import sys


def _settings_failure(exc: Exception) -> None:
    """`threadline doctor` when the settings themselves do not load: report it as a failed check."""
    from threadline.core.health import Check, render_table

    detail = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    print(render_table([Check("settings", False, detail)]))  # noqa: T201 - the command's output
    print("\nThe settings do not load; fix the THREADLINE_* variables above first.")  # noqa: T201
    sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.config.settings")
    from django.core.management import execute_from_command_line

    from threadline.config import env

    args = list(sys.argv if argv is None else ["threadline", *argv])
    if len(args) == 1:
        args.append("help")
    if args[1] == "worker":
        env.prepare_in_workers()
    if args[1] == "doctor":
        # one process, one connection: connect directly, so an unreachable database answers at once with the
        # driver's own error (through the pool each check waited its 30 s timeout: 90 s for a refused port)
        os.environ.setdefault("THREADLINE_DB_POOL_MAX", "0")
        import django

        try:
            django.setup()
        except Exception as exc:  # noqa: BLE001 - doctor reports every failure as a check
            _settings_failure(exc)
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
