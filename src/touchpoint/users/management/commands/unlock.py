"""`touchpoint unlock EMAIL` / `touchpoint unlock --ip ADDRESS`: lift a sign-in lockout (audited)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from touchpoint.users.access_services import unlock_sign_in


class Command(BaseCommand):
    help = "Let an account (by email) or a client address sign in again after a lockout."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="", help="The account's email address.")
        parser.add_argument("--ip", default="", help="A client address to unlock.")

    def handle(self, *args, username: str, ip: str, **options):
        try:
            removed = unlock_sign_in(username=username, ip_address=ip)
        except ValidationError:
            raise CommandError("Give an email address or --ip ADDRESS to unlock.") from None
        self.stdout.write(f"Unlocked: {removed} failure record(s) removed.")
