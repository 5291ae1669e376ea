"""`touchpoint journey …`: journeys as plain text from the command line.

    touchpoint journey validate FILE...            every problem as FILE:LINE:COLUMN: message (exit 1)
    touchpoint journey apply FILE [--launch]       save the file as the journey's next version
    touchpoint journey export KEY [--version N]    the YAML of a version (the latest by default)
    touchpoint journey launch KEY [--version N] [--move-enrollments]
    touchpoint journey pause KEY | resume KEY | archive KEY
    touchpoint journey simulate FILE [--days 90] [--json]

FILE may be "-" for standard input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Validate, apply, export, launch, pause, resume, archive or simulate journeys written as YAML."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        validate = commands.add_parser(
            "validate", help="Check YAML files; print every problem with its line."
        )
        validate.add_argument("files", nargs="+", metavar="FILE", help="YAML file ('-' for standard input).")
        apply = commands.add_parser("apply", help="Save a YAML file as its journey's next version.")
        apply.add_argument("file", metavar="FILE", help="YAML file ('-' for standard input).")
        apply.add_argument("--launch", action="store_true", help="Launch the saved version too.")
        apply.add_argument(
            "--move-enrollments",
            action="store_true",
            help="With --launch: move active enrollments whose step exists in the new version.",
        )
        apply.add_argument("--note", default="", help="What changed (kept with the version).")
        apply.add_argument("--actor", help="Email of the person the change is recorded for.")
        export = commands.add_parser("export", help="Write a journey version's YAML.")
        export.add_argument("key", help="The journey's key.")
        export.add_argument("--version", type=int, help="Version number (default: the latest).")
        export.add_argument("--output", "-o", default="-", help="File to write (standard output by default).")
        export.add_argument(
            "--normalized",
            action="store_true",
            help="Write the definition as Touchpoint writes it (no comments) instead of the saved text.",
        )
        launch = commands.add_parser("launch", help="Make a version live (the latest by default).")
        launch.add_argument("key", help="The journey's key.")
        launch.add_argument("--version", type=int, help="Version number (default: the latest).")
        launch.add_argument(
            "--move-enrollments",
            action="store_true",
            help="Move active enrollments whose current step exists in the new version.",
        )
        launch.add_argument("--actor", help="Email of the person the change is recorded for.")
        for name, text in (
            ("pause", "Stop a live journey: nobody enters or advances."),
            ("resume", "Run a paused journey again."),
            ("archive", "Retire a draft or paused journey (its active enrollments exit)."),
        ):
            sub = commands.add_parser(name, help=text)
            sub.add_argument("key", help="The journey's key.")
            sub.add_argument("--actor", help="Email of the person the change is recorded for.")
        simulate = commands.add_parser(
            "simulate", help="Run a journey file against past data (no side effects)."
        )
        simulate.add_argument("file", metavar="FILE", help="YAML file ('-' for standard input).")
        simulate.add_argument(
            "--days", type=int, default=90, help="How many past days to replay (default 90)."
        )
        simulate.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"do_{action}")(**options)

    # --- helpers ---

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

    def _journey(self, key: str) -> Any:
        from touchpoint.journeys.models import Journey

        journey = Journey.objects.filter(key=key).first()
        if journey is None:
            keys = ", ".join(Journey.objects.order_by("key").values_list("key", flat=True)) or "none"
            raise CommandError(f"No journey with key {key!r} (there are: {keys})")
        return journey

    def _version(self, journey: Any, number: int | None) -> Any:
        from touchpoint.journeys.services import latest_version

        version = (
            latest_version(journey) if number is None else journey.versions.filter(number=number).first()
        )
        if version is None:
            raise CommandError(
                f"{journey.key} has no version {number}"
                if number is not None
                else f"{journey.key} has no version"
            )
        return version

    @staticmethod
    def _said(error: ValidationError) -> str:
        if hasattr(error, "error_dict"):
            return "\n".join(message for messages in error.message_dict.values() for message in messages)
        return "\n".join(error.messages)

    # --- actions ---

    def do_validate(self, *, files: list[str], **_options: Any) -> None:
        from touchpoint.journeys.documents import problems_of

        count = 0
        for file in files:
            problems = problems_of(self._read(file))
            self._problems(file, problems)
            if not problems:
                self.stdout.write(f"{file}: OK")
            count += len(problems)
        if count:
            raise CommandError(f"{count} problem(s)", returncode=1)

    def do_apply(
        self,
        *,
        file: str,
        launch: bool,
        move_enrollments: bool,
        note: str,
        actor: str | None,
        **_options: Any,
    ) -> None:
        from touchpoint.journeys import services
        from touchpoint.journeys.documents import DocumentError

        user = self._actor(actor)
        text = self._read(file)
        try:
            version = services.save_version(source=text, actor=user, note=note)
        except DocumentError as error:
            self._problems(file, error.problems)
            raise CommandError(f"{len(error.problems)} problem(s); nothing saved", returncode=1) from error
        except ValidationError as error:
            raise CommandError(f"{file}: {self._said(error)}") from error
        self.stdout.write(f"{version.journey.key}: version {version.number} saved")
        if launch:
            self._launch(version.journey, version, move_enrollments=move_enrollments, actor=user)

    def _launch(self, journey: Any, version: Any, *, move_enrollments: bool, actor: Any) -> None:
        from touchpoint.journeys import services

        try:
            launched = services.launch_version(
                journey=journey, version=version, actor=actor, move_enrollments=move_enrollments
            )
        except ValidationError as error:
            raise CommandError(self._said(error)) from error
        line = f"{journey.key}: version {launched.version.number} is live"
        if launched.moved or launched.stayed:
            line += f"; {launched.moved} enrollment(s) moved to it, {launched.stayed} stay on older versions"
        self.stdout.write(line)

    def do_export(
        self, *, key: str, version: int | None, output: str, normalized: bool, **_options: Any
    ) -> None:
        from touchpoint.journeys import documents, services

        saved = self._version(self._journey(key), version)
        text = (
            saved.source if saved.source and not normalized else documents.dump(services.definition_of(saved))
        )
        if output == "-":
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
        else:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {output}")

    def do_launch(
        self, *, key: str, version: int | None, move_enrollments: bool, actor: str | None, **_options: Any
    ) -> None:
        user = self._actor(actor)
        journey = self._journey(key)
        self._launch(journey, self._version(journey, version), move_enrollments=move_enrollments, actor=user)

    def _change(self, change: str, key: str, actor: str | None) -> None:
        from touchpoint.journeys import services

        user = self._actor(actor)
        try:
            journey = getattr(services, change)(journey=self._journey(key), actor=user)
        except ValidationError as error:
            raise CommandError(f"{key}: {self._said(error)}") from error
        self.stdout.write(f"{key}: {journey.status}")

    def do_pause(self, *, key: str, actor: str | None, **_options: Any) -> None:
        self._change("pause", key, actor)

    def do_resume(self, *, key: str, actor: str | None, **_options: Any) -> None:
        self._change("resume", key, actor)

    def do_archive(self, *, key: str, actor: str | None, **_options: Any) -> None:
        self._change("archive", key, actor)

    def do_simulate(self, *, file: str, days: int, json: bool, **_options: Any) -> None:
        from touchpoint.journeys.documents import DocumentError, read
        from touchpoint.journeys.simulation import simulate

        if not 1 <= days <= 3650:
            raise CommandError("--days must be between 1 and 3650")
        try:
            definition = read(self._read(file))
        except DocumentError as error:
            self._problems(file, error.problems)
            raise CommandError(
                f"{len(error.problems)} problem(s); nothing simulated", returncode=1
            ) from error
        result = simulate(definition, days=days).to_json()
        if json:
            self.stdout.write(_json_text(result))
        else:
            self.stdout.write(_summary(result))


def _json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def _summary(result: dict[str, Any]) -> str:
    """The simulation's JSON as a page to read: who entered, where they went, what would have gone out."""
    lines = [
        f"{result.get('journey', '?')}: {result.get('days', '?')} days "
        f"({str(result.get('start', '?'))[:10]} to {str(result.get('end', '?'))[:10]}), "
        f"entry: {result.get('trigger', '?')}"
    ]
    refused = result.get("refused") or {}
    lines.append(
        f"Entered: {result.get('entered', 0)}" + (f" (refused: {_pairs(refused)})" if refused else "")
    )
    if result.get("outcomes"):
        lines.append(f"Outcomes: {_pairs(result['outcomes'])}")
    steps = result.get("steps") or {}
    if steps:
        lines.append("Steps:")
        lines.extend(f"  {step}: {_pairs(counts)}" for step, counts in steps.items())
    paths = result.get("paths") or []
    if paths:
        lines.append(f"Paths ({len(paths)}):")
        for path in paths[:10]:
            walked = " → ".join(
                f"{leg.get('step')}({leg.get('outcome')})" if leg.get("outcome") else str(leg.get("step"))
                for leg in path.get("steps", [])
            )
            lines.append(f"  {path.get('count', 0)} × {walked} → {path.get('ended', '')}")
        if len(paths) > 10:
            lines.append(f"  … and {len(paths) - 10} more")
    for step, arms in (result.get("arms") or {}).items():
        lines.append(f"A/B {step}: " + "; ".join(f"{arm}: {_pairs(counts)}" for arm, counts in arms.items()))
    lines.append(
        f"Messages: {result.get('messages_total', 0)}"
        + (f" ({_pairs(result['delivery'])})" if result.get("delivery") else "")
    )
    for message in (result.get("messages") or [])[:5]:
        lines.append(f"  - {_brief(message)}")
    lines.extend(f"Note: {note}" for note in result.get("notes") or [])
    return "\n".join(lines)


def _pairs(counts: Any) -> str:
    if not isinstance(counts, dict):
        return str(counts)
    return ", ".join(f"{key} {value}" for key, value in counts.items())


def _brief(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(
            f"{key}={_brief(item)}" for key, item in value.items() if not isinstance(item, dict | list)
        )
    text = str(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:79] + "…"
