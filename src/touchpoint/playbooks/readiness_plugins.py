"""What playbooks add to readiness maps (registered from PlaybooksConfig.ready()): a playbook as how
people serve a touchpoint, linked by its name (unique, and what playbook YAML files apply by, so a
map's links survive export and apply). Active playbooks are offered; one switched off still resolves
(it can be switched on again) and says so."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from touchpoint.playbooks.models import Playbook
from touchpoint.readiness.links import Serves, link_kinds


def playbook_choices() -> list[tuple[str, str]]:
    """The active playbooks, as (name, name)."""
    names = Playbook.objects.filter(is_active=True).order_by("name", "id").values_list("name", flat=True)
    return [(name, name) for name in names]


def resolve_playbook(name: str) -> tuple[str, str] | None:
    """(name, the playbook on the Playbooks page), None when it was deleted."""
    playbook = Playbook.objects.filter(name=name).first()
    if playbook is None:
        return None
    label = playbook.name if playbook.is_active else _("%(name)s (switched off)") % {"name": playbook.name}
    return label, f"{reverse('playbooks')}#playbook-{playbook.pk}"


def register() -> None:
    link_kinds.add(
        key="playbook",
        label=_("Playbook"),
        serves=Serves.PEOPLE,
        choices=playbook_choices,
        resolve=resolve_playbook,
        order=20,
    )
