"""`touchpoint demo`: load a realistic demo company into an empty database (see demo/builders.py)."""

from __future__ import annotations

import time
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from touchpoint.demo import builders


def positive_integer(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = _(
        "Load a demo company (users, accounts, contacts, timelines) into an empty database. "
        "The same seed and date give the same company."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--accounts", type=positive_integer, default=300, help=_("Number of accounts (default 300).")
        )
        parser.add_argument(
            "--days",
            type=positive_integer,
            default=540,
            help=_("Days of history up to today (default 540, about 18 months)."),
        )
        parser.add_argument("--seed", type=int, default=42, help=_("Random seed (default 42)."))
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help=_("The date the history ends at, YYYY-MM-DD (default: today)."),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_("First delete every account, segment and success framework, and the demo users."),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=_("Do nothing, successfully, when the database already holds data."),
        )

    def handle(
        self,
        *args,
        accounts: int,
        days: int,
        seed: int,
        today: date | None,
        reset: bool,
        if_empty: bool,
        **options,
    ) -> None:
        # One transaction: a build that fails after --reset leaves the old data in place.
        with transaction.atomic():
            if reset:
                builders.reset()
            started = time.perf_counter()
            existing = builders.existing_data()
            if existing:
                labels = builders.data_labels()
                found = ", ".join(f"{labels[what]}: {count}" for what, count in existing.items())
                if if_empty:
                    self.stdout.write(
                        _("The database already holds data (%(found)s); the demo company was not loaded.")
                        % {"found": found}
                    )
                    self._remind_how_to_log_in()
                    return
                raise CommandError(
                    _(
                        "The database already holds data (%(found)s). The demo company loads "
                        "only into an empty database; run with --reset to delete that data "
                        "first."
                    )
                    % {"found": found}
                )
            try:
                context = builders.build(seed=seed, accounts=accounts, days=days, anchor=today)
            except builders.DemoError as error:
                raise CommandError(str(error)) from None
        seconds = time.perf_counter() - started  # with the commit, where PostgreSQL checks the foreign keys
        if reset:
            self.stdout.write(
                _("Deleted the accounts, segments, success frameworks and demo users that were there before.")
            )
        counts = context.counts
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo company loaded in %(seconds).1f s: %(accounts)s accounts, %(contacts)s contacts, "
                    "%(entries)s timeline entries (%(engagements)s meetings, calls, emails and notes)."
                )
                % {
                    "seconds": seconds,
                    "accounts": counts["accounts.account"],
                    "contacts": counts["accounts.contact"],
                    "entries": counts["accounts.timelineentry"],
                    "engagements": counts["accounts.engagement"],
                }
            )
        )
        if options.get("verbosity", 1) >= 2:
            self.stdout.write(" · ".join(f"{name} {took:.1f} s" for name, took in context.seconds.items()))
        self.stdout.write(
            _("Seed %(seed)s; %(days)s days of history up to %(today)s.")
            % {"seed": seed, "days": days, "today": context.anchor.isoformat()}
        )
        self.stdout.write("")
        self.stdout.write(_("Demo logins (for trying Touchpoint only; delete these users before real use):"))
        rows = [(_("Email address"), _("Password"), _("Role"), _("Name"))] + [
            (login.user.email, login.password, str(login.role_label or login.role), login.user.full_name)
            for login in context.logins
        ]
        email_width = max(len(row[0]) for row in rows)
        password_width = max(len(row[1]) for row in rows)
        for email, password, role, name in rows:
            self.stdout.write(f"  {email:<{email_width}}  {password:<{password_width}}  {role} — {name}")

    def _remind_how_to_log_in(self) -> None:
        """On a second `make run`, tell the person how they get in."""
        user_model = get_user_model()
        demo_users = user_model.objects.filter(
            email__endswith=f"@{builders.DEMO_EMAIL_DOMAIN}", is_active=True
        )
        first = demo_users.order_by("pk").first()
        if first is not None:
            self.stdout.write(
                _("Log in with a demo user, e.g. %(email)s, password %(password)s (unless it was changed).")
                % {"email": first.email, "password": builders.DEMO_PASSWORD}
            )
        elif not user_model.objects.filter(is_active=True).exists():
            self.stdout.write(
                _("Nobody can log in yet: create an admin with `touchpoint createuser EMAIL --role admin`.")
            )
