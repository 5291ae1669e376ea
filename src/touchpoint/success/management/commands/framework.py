"""`touchpoint framework …`: success frameworks as plain text from the command line.

    touchpoint framework validate FILE...           every problem as FILE:LINE:COLUMN: message (exit 1)
    touchpoint framework apply FILE [--actor EMAIL] create or update the framework the file defines
    touchpoint framework export KEY [FILE]          its YAML (standard output without FILE)
    touchpoint framework list                       every framework's key and name

FILE may be "-" for standard input. The shipped frameworks are in success/library/.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Validate, apply or export success frameworks written as YAML."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        validate = commands.add_parser(
            "validate", help="Check YAML files; print every problem with its line."
        )
        validate.add_argument("files", nargs="+", metavar="FILE", help="YAML file ('-' for standard input).")
        apply = commands.add_parser("apply", help="Create or update the framework a YAML file defines.")
        apply.add_argument("file", metavar="FILE", help="YAML file ('-' for standard input).")
        apply.add_argument("--actor", help="Email of the person the change is recorded for.")
        export = commands.add_parser("export", help="Write a framework's YAML.")
        export.add_argument("key", help="The framework's key.")
        export.add_argument(
            "output",
            nargs="?",
            default="-",
            metavar="FILE",
            help="File to write (standard output by default).",
        )
        commands.add_parser("list", help="Every framework's key and name.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"do_{action}")(**options)

    def _read(self, file: str) -> str:
        try:
            return sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{file}: {error}") from error

    def _problems(self, file: str, problems: list[Any]) -> None:
        for problem in problems:
            self.stdout.write(f"{file}:{problem.line}:{problem.column}: {problem.message}")

    def _actor(self, email: str | None) -> Any:
        from touchpoint.users.models import User

        if not email:
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with email {email}")
        return user

    def do_validate(self, *, files: list[str], **options: Any) -> None:
        from touchpoint.success.documents import problems_of

        failed = False
        for file in files:
            problems = problems_of(self._read(file))
            if problems:
                failed = True
                self._problems(file, problems)
            else:
                self.stdout.write(f"{file}: OK")
        if failed:
            raise CommandError("Some files have problems.", returncode=1)

    def do_apply(self, *, file: str, actor: str | None = None, **options: Any) -> None:
        from touchpoint.success.documents import DocumentError, apply_text

        user = self._actor(actor)
        try:
            framework = apply_text(self._read(file), actor=user)
        except DocumentError as error:
            self._problems(file, error.problems)
            raise CommandError("Nothing was applied.", returncode=1) from error
        self.stdout.write(
            f"Applied {framework.key} ({framework.name}): {framework.phases.count()} phases, "
            f"{framework.milestones.count()} milestones."
        )

    def do_export(self, *, key: str, output: str = "-", **options: Any) -> None:
        from touchpoint.success.documents import export_text
        from touchpoint.success.models import SuccessFramework

        framework = SuccessFramework.objects.filter(key=key).first()
        if framework is None:
            keys = ", ".join(
                SuccessFramework.objects.exclude(key="").order_by("key").values_list("key", flat=True)
            )
            raise CommandError(f"No success framework with key {key!r} (there are: {keys or 'none'})")
        text = export_text(framework)
        if output == "-":
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{output}: {error}") from error

    def do_list(self, **options: Any) -> None:
        from touchpoint.success.models import SuccessFramework

        for framework in SuccessFramework.objects.order_by("key", "name"):
            default = " (default)" if framework.is_default else ""
            self.stdout.write(f"{framework.key or '-'}\t{framework.name}{default}")
