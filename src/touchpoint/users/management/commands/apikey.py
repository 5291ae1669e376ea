"""`touchpoint apikey create|list|revoke`: API keys for scripts. `create` prints the key as its last line."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.users.models import API_KEY_PREFIX, API_KEY_SCOPES, ApiKey, User
from touchpoint.users.services import create_api_key, revoke_api_key


class Command(BaseCommand):
    help = _("Create, list and revoke API keys.")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help=_("Make a new key for a user and print it."))
        create.add_argument("--user", required=True, help=_("The email address of the key's user."))
        create.add_argument("--name", default="", help=_("What the key is for."))
        create.add_argument(
            "--scope",
            action="append",
            default=[],
            help="What the key may do: read, write, ingest, admin (repeat or separate with commas; "
            "default all four, bounded by the user's role).",
        )
        create.add_argument(
            "--expires",
            default="",
            help="When the key stops working: an ISO date or date-time (e.g. 2027-01-31), or a number of days (90d).",
        )
        listing = actions.add_parser("list", help=_("List keys (never the secrets)."))
        listing.add_argument("--user", help=_("Only this user's keys."))
        revoke = actions.add_parser("revoke", help=_("Stop a key from working."))
        revoke.add_argument("key_id", help=_("The key's lookup id, as `list` shows it."))

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"handle_{action}")(**options)

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(_("No user with the email address %(email)s.") % {"email": email})
        if not user.is_active:
            raise CommandError(_("The user %(email)s is deactivated.") % {"email": email})
        return user

    def _expiry(self, text: str) -> datetime | None:
        text = text.strip()
        if not text:
            return None
        if text.endswith("d") and text[:-1].isdigit():
            return timezone.now() + timedelta(days=int(text[:-1]))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise CommandError(
                f"--expires: “{text}” is not an ISO date, date-time or a number of days like 90d."
            ) from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def handle_create(self, *, user: str, name: str, scope: list[str], expires: str, **options) -> None:
        owner = self._user(user)
        scopes = [part.strip() for value in scope for part in value.split(",") if part.strip()]
        try:
            api_key, raw = create_api_key(
                user=owner, name=name, scopes=scopes or list(API_KEY_SCOPES), expires_at=self._expiry(expires)
            )
        except ValidationError as error:
            field, messages = next(iter(error.message_dict.items()))
            option = {"scopes": "--scope", "expires_at": "--expires"}.get(field, f"--{field}")
            raise CommandError(f"{option}: {' '.join(messages)}") from None
        self.stdout.write(
            _("Created API key %(id)s for %(email)s. Keep it secret; it is shown only once:")
            % {"id": api_key.lookup, "email": owner.email}
        )
        self.stdout.write(raw)

    def handle_list(self, *, user: str | None, **options) -> None:
        keys = ApiKey.objects.select_related("user").order_by("user__email", "created_at")
        if user:
            keys = keys.filter(user=self._user(user))
        for key in keys:
            state = _("revoked") if key.revoked_at else (_("expired") if key.is_expired else _("active"))
            used = key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else _("never used")
            scopes = ",".join(key.scopes) or "-"
            expiry = key.expires_at.isoformat(timespec="minutes") if key.expires_at else "-"
            self.stdout.write(
                f"{key.lookup}\t{key.user.email}\t{key.name or '-'}\t{state}\t{used}\t{scopes}\t{expiry}"
            )

    def handle_revoke(self, *, key_id: str, **options) -> None:
        lookup = key_id.removeprefix(f"{API_KEY_PREFIX}_").split("_")[0]
        api_key = ApiKey.objects.filter(lookup=lookup).first()
        if api_key is None:
            raise CommandError(_("No API key %(id)s.") % {"id": key_id})
        revoke_api_key(api_key=api_key)
        self.stdout.write(_("Revoked API key %(id)s.") % {"id": api_key.lookup})
