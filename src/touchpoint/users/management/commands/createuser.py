"""`touchpoint createuser EMAIL --role ROLE [--password P]`: never prompts, so scripts can call it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from touchpoint.users.roles import Role
from touchpoint.users.services import create_user


class Command(BaseCommand):
    help = _("Add a user with a role. Prints a generated password when none is given.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=[role.value for role in Role])
        parser.add_argument("--password", help=_("Leave out to have a strong one generated and printed."))
        parser.add_argument("--name", default="", help=_("The person's full name."))

    def handle(self, *args, email: str, role: str, password: str | None, name: str, **options) -> None:
        try:
            user, used_password = create_user(email=email, role=role, password=password, full_name=name)
        except ValidationError as error:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            raise CommandError(problems) from None
        self.stdout.write(
            _("Created %(email)s with the role %(role)s.") % {"email": user.email, "role": Role(role).label}
        )
        if password is None:
            self.stdout.write(_("Password (shown once): %(password)s") % {"password": used_password})
