"""The `threadline` command: `serve`, `worker`, `scheduler`, `migrate`, `createadmin`, `token`, `doctor`,
and any other Django management command (`threadline shell`, `threadline makemigrations` ...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.config.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["threadline", *argv])
    if len(args) == 1:
        args.append("help")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
