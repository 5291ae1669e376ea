"""The `touchpoint` console script: Django's manage.py under a friendlier name.

Every Django management command works through it (`touchpoint migrate`, `touchpoint shell`…);
Touchpoint's own commands live in the apps' management/commands folders.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchpoint.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["touchpoint", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
