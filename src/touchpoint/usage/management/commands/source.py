"""`touchpoint source create NAME`: a Segment-compatible event source; prints its write key last."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from touchpoint.usage.models import Source
from touchpoint.usage.services import create_source


class Command(BaseCommand):
    help = _("Create and list event sources (Segment-compatible write keys).")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help=_("Make a source and print its write key."))
        create.add_argument("name")
        actions.add_parser("list", help=_("List sources with their write keys."))

    def handle(self, *args, action: str, **options) -> None:
        if action == "create":
            try:
                source = create_source(name=options["name"], actor=None)
            except ValidationError as error:
                raise CommandError("; ".join(" ".join(m) for m in error.message_dict.values())) from None
            self.stdout.write(_("Created the source “%(name)s”. Its write key:") % {"name": source.name})
            self.stdout.write(source.write_key)
        else:
            for source in Source.objects.order_by("name"):
                self.stdout.write(
                    f"{source.name}\t{source.write_key}\t{_('active') if source.is_active else _('inactive')}"
                )
