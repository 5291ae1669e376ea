"""`touchpoint playbook export NAME [FILE]`, `touchpoint playbook apply FILE [--actor EMAIL]`,
`touchpoint playbook scan` (the daily renewal scan, now) and `touchpoint playbook follow` (the
rules' event consumer, now)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Export a playbook as YAML, apply a YAML file, or run the playbook rules now."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        export = commands.add_parser("export", help="Write a playbook as YAML.")
        export.add_argument("name", help="The playbook's name.")
        export.add_argument(
            "file", nargs="?", default="-", help="YAML file (standard output if omitted or '-')."
        )
        apply = commands.add_parser("apply", help="Create or update playbooks from a YAML file (by name).")
        apply.add_argument("file", help="YAML file ('-' for standard input).")
        apply.add_argument("--actor", help="Email of the person the change is recorded for.")
        commands.add_parser("scan", help="Start the renewal playbook for renewals entering their window.")
        commands.add_parser("follow", help="Catch the rules up with the domain events.")

    def handle(self, *args, action: str, **options) -> None:
        from touchpoint.playbooks import documents, services, triggers
        from touchpoint.playbooks.models import Playbook
        from touchpoint.users.models import User

        if action == "export":
            playbook = Playbook.objects.filter(name=options["name"]).first()
            if playbook is None:
                names = ", ".join(Playbook.objects.values_list("name", flat=True))
                raise CommandError(f"No playbook named {options['name']!r} (there are: {names})")
            text = documents.export(playbook)
            if options["file"] == "-":
                self.stdout.write(text, ending="")
            else:
                Path(options["file"]).write_text(text, encoding="utf-8")
                self.stdout.write(f"Wrote {options['file']}")
            return
        if action == "scan":
            runs = triggers.scan_renewals()
            self.stdout.write(f"Started {len(runs)} renewal playbook(s)")
            return
        if action == "follow":
            self.stdout.write(f"Read {triggers.follow_events()} event(s)")
            return
        user = None
        if options.get("actor"):
            user = User.objects.filter(email__iexact=options["actor"]).first()
            if user is None:
                raise CommandError(f"No user with email {options['actor']}")
        file = options["file"]
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(str(error)) from error
        try:
            applied = services.apply_playbooks_yaml(text=text, actor=user)
        except ValidationError as error:
            raise CommandError(
                f"{file}:\n"
                + "\n".join(message for messages in error.message_dict.values() for message in messages)
            ) from error
        for playbook, outcome in applied:
            self.stdout.write(f"{playbook.name}: {outcome}")
