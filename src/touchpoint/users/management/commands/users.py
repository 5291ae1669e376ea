"""`touchpoint users invite EMAIL --role ROLE [--name NAME] [--language CODE]`: invite someone by
email, for scripted set-up; `touchpoint users list`: who uses Touchpoint, with role and status."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from touchpoint.users import people
from touchpoint.users.models import SignInLinkPurpose
from touchpoint.users.people_selectors import people as people_list
from touchpoint.users.people_selectors import status_of
from touchpoint.users.roles import Role


class Command(BaseCommand):
    help = "Invite people by email and list who uses Touchpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        invite = actions.add_parser("invite", help="Invite someone: they get an email with a one-time link.")
        invite.add_argument("email")
        invite.add_argument("--role", required=True, choices=[role.value for role in Role])
        invite.add_argument("--name", default="", help="The person's full name.")
        invite.add_argument(
            "--language",
            default="",
            choices=["", *(code for code, _name in settings.LANGUAGES)],
            help="The language of the email (and of later emails to them); the site's default when left out.",
        )
        invite.add_argument(
            "--print-link",
            action="store_true",
            help="Also print the link (for set-ups without mail); treat it as a password.",
        )
        actions.add_parser("list", help="Everyone, with role and status.")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"handle_{action}")(**options)

    def handle_invite(
        self, *, email: str, role: str, name: str, language: str, print_link: bool, **options
    ) -> None:
        try:
            user, raw = people.invite_user(
                email=email, role=role, full_name=name, language=language, actor=None
            )
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
            raise CommandError(problems) from None
        self.stdout.write(f"Invited {user.email} as {Role(role).label}.")
        try:
            people.send_link_email(user=user, raw_token=raw, purpose=SignInLinkPurpose.INVITE)
        except OSError as problem:
            self.stderr.write(
                f"The invitation is saved but the email could not be sent ({problem}). "
                "Send it again from the person's page under People."
            )
        else:
            self.stdout.write(f"Emailed the invitation link to {user.email}.")
        if print_link:
            self.stdout.write(people.link_url(raw))

    def handle_list(self, **options) -> None:
        for person in people_list():
            role = person.role.value if person.role else "-"
            last = person.last_login.isoformat(timespec="minutes") if person.last_login else "never"
            self.stdout.write(
                f"{person.email}\t{person.full_name or '-'}\t{role}\t{status_of(person)}\t{last}"
            )
