"""success.services.place_account: the phase belongs to the framework, and every change is recorded."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.factories import AccountFactory, FrameworkFactory, PhaseFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.accounts.timeline import entry_title
from touchpoint.success import services
from touchpoint.success.models import AccountPlacement
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def test_phase_must_belong_to_the_framework(csm):
    other = FrameworkFactory(name="Self-serve", is_default=False)
    phase = PhaseFactory(name="Adoption")
    account = AccountFactory()
    with pytest.raises(ValidationError) as error:
        services.place_account(account=account, framework=other, phase=phase, actor=csm)
    assert "phase" in error.value.message_dict
    assert not AccountPlacement.objects.filter(account=account).exists()
    placement = services.place_account(account=account, phase=phase, actor=csm)
    assert (placement.framework, placement.phase) == (phase.framework, phase)


def test_moving_to_another_framework_drops_the_old_phase(csm):
    phase = PhaseFactory(name="Onboarding")
    account = AccountFactory()
    services.place_account(account=account, phase=phase, actor=csm)
    other = FrameworkFactory(name="Self-serve", is_default=False)
    services.place_account(account=account, framework=other, actor=csm)
    placement = AccountPlacement.objects.get(account=account)
    assert placement.framework == other and placement.phase is None


def test_a_change_is_on_the_timeline_and_in_the_audit_log_and_no_change_writes_nothing(csm):
    onboarding = PhaseFactory(name="Onboarding")
    adoption = PhaseFactory(name="Adoption")
    account = AccountFactory()
    first = services.place_account(account=account, phase=onboarding, actor=csm)
    entered = first.entered_at
    services.place_account(account=account, phase=adoption, actor=csm)
    entries = TimelineEntry.objects.filter(account=account, kind="phase_changed").order_by("id")
    assert [e.data["changes"]["phase"] for e in entries] == [[None, "Onboarding"], ["Onboarding", "Adoption"]]
    assert entries[1].actor == csm and entry_title(entries[1]) == "Moved to phase Adoption"
    assert AccountPlacement.objects.get(account=account).entered_at >= entered
    audit = AuditLogEntry.objects.filter(action="account.placement").order_by("id")
    assert audit.count() == 2 and audit.last().changes["phase"] == ["Onboarding", "Adoption"]
    services.place_account(account=account, phase=adoption, actor=csm)
    assert entries.count() == 2 and audit.count() == 2


def test_none_clears_the_phase_and_keeps_the_framework(csm):
    phase = PhaseFactory(name="Onboarding")
    account = AccountFactory(phase=phase)
    services.place_account(account=account, phase=None, actor=csm)
    placement = AccountPlacement.objects.get(account=account)
    assert placement.phase is None and placement.framework == phase.framework
    entry = TimelineEntry.objects.get(account=account, kind="phase_changed")
    assert entry_title(entry) == "Removed from its lifecycle phase"


def test_deleting_an_account_deletes_its_placement(csm):
    account = AccountFactory(phase=PhaseFactory(name="Onboarding"))
    account.delete()
    assert not AccountPlacement.objects.exists()


def test_accounts_code_does_not_import_success():
    """accounts sits at the bottom: none of its modules imports the success app."""
    from pathlib import Path

    import touchpoint.accounts

    package = Path(touchpoint.accounts.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "migrations" not in path.parts and "touchpoint.success" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_old_account_changed_entries_naming_the_moved_fields_still_read(csm):
    account = AccountFactory()
    entry = TimelineEntry.objects.create(
        account=account,
        kind="account_changed",
        title="Changed name, phase",
        data={"changes": {"name": ["A", "B"], "phase": ["Onboarding", "Adoption"]}},
    )
    assert entry_title(entry) == "Changed name, phase"


def test_a_phase_change_is_a_domain_event_and_a_failed_one_is_not(csm):
    from touchpoint.events.models import DomainEvent

    onboarding = PhaseFactory(name="Onboarding")
    adoption = PhaseFactory(name="Adoption")
    account = AccountFactory()
    services.place_account(account=account, phase=onboarding, actor=csm)
    services.place_account(account=account, phase=adoption, actor=csm)
    services.place_account(account=account, phase=adoption, actor=csm)  # no change: no event
    events = list(DomainEvent.objects.filter(kind="phase.changed", account_id=account.pk).order_by("id"))
    assert [e.payload["phase_id"] for e in events] == [onboarding.pk, adoption.pk]
    assert events[1].payload["previous_phase_id"] == onboarding.pk and events[1].actor == csm
    other = FrameworkFactory(name="Self-serve", is_default=False)
    with pytest.raises(ValidationError):
        services.place_account(account=account, framework=other, phase=onboarding, actor=csm)
    assert DomainEvent.objects.filter(kind="phase.changed", account_id=account.pk).count() == 2
