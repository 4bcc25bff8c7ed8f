#!/usr/bin/env python
"""Development shortcut; the installed `threadline` command is the same thing."""

from threadline.config.cli import main

if __name__ == "__main__":
    main()
