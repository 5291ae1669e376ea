"""Writing a success plan: from the framework's template, each change on the timeline and in the audit
log, contacts and milestones only from the account and its framework, and share links."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory, FrameworkFactory
from tests.plans.conftest import TODAY
from touchpoint.accounts.models import TimelineEntry
from touchpoint.plans import selectors, services
from touchpoint.plans.models import PlanKpi, PlanMilestoneStatus, PlanStatus, SuccessPlan
from touchpoint.success.models import MilestoneDefinition, MilestoneReached
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def _plan_changes(account) -> list[str]:
    return list(
        TimelineEntry.objects.filter(account=account, kind="plan_changed")
        .order_by("id")
        .values_list("data__change", flat=True)
    )


def test_a_plan_starts_from_the_framework_template_with_due_dates_from_today(placed, csm):
    plan = services.create_plan(account=placed, actor=csm, today=TODAY)
    objective = plan.objectives.get()
    assert objective.text == "Cut the time to close the month"
    kpi = objective.kpis.get()
    assert (kpi.name, kpi.unit, kpi.baseline, kpi.target) == (
        "Days to close",
        "days",
        Decimal(10),
        Decimal(5),
    )
    assert kpi.due_on == TODAY + timedelta(days=90)
    kickoff, report = plan.milestones.all()
    assert (kickoff.title, kickoff.due_on, kickoff.milestone) == (
        "Kick-off held",
        TODAY + timedelta(days=14),
        None,
    )
    assert report.milestone.key == "first-report" and report.due_on == TODAY + timedelta(days=30)
    assert plan.status == PlanStatus.DRAFT and plan.framework.key == "standard"
    assert _plan_changes(placed) == ["created"]
    assert AuditLogEntry.objects.filter(action="plan.created", object_id=str(plan.pk)).exists()


def test_an_account_without_a_framework_takes_the_default_and_a_second_plan_is_refused(
    account, framework, csm
):
    plan = services.create_plan(account=account, actor=csm)
    assert plan.framework == framework
    with pytest.raises(ValidationError) as error:
        services.create_plan(account=account, actor=csm)
    assert "account" in error.value.message_dict


def test_no_framework_at_all_gives_an_empty_plan(account, csm):
    plan = services.create_plan(account=account, actor=csm)
    assert plan.framework is None and not plan.objectives.exists() and account.name in plan.title


def test_every_change_lands_on_the_timeline_saying_what_changed(placed, csm, champion):
    plan = services.create_plan(account=placed, actor=csm, today=TODAY)
    objective = services.add_objective(plan=plan, text="  Onboard the Osaka team  ", actor=csm)
    assert objective.text == "Onboard the Osaka team"
    kpi = services.add_kpi(
        objective=objective,
        values=services.KpiValues(
            name="Active users", baseline=Decimal(0), target=Decimal(40), owner=champion
        ),
        actor=csm,
    )
    services.change_kpi(
        kpi=kpi,
        values=services.KpiValues(
            name="Active users", baseline=Decimal(0), target=Decimal(40), current=Decimal(10), owner=champion
        ),
        actor=csm,
    )
    # The same values again: nothing changed, nothing recorded.
    services.change_kpi(
        kpi=kpi,
        values=services.KpiValues(
            name="Active users",
            baseline=Decimal("0.0"),
            target=Decimal(40),
            current=Decimal(10),
            owner=champion,
        ),
        actor=csm,
    )
    services.add_stakeholder(plan=plan, contact=champion, role="champion", actor=csm)
    services.add_stakeholder(plan=plan, contact=champion, role="champion", actor=csm)  # idempotent
    services.agree_plan(plan=plan, agreed_by=champion, agreed_on=TODAY, actor=csm)
    assert _plan_changes(placed) == [
        "created",
        "objective_added",
        "kpi_added",
        "kpi_changed",
        "stakeholder_added",
        "agreed",
    ]
    entry = TimelineEntry.objects.filter(kind="plan_changed", data__change="kpi_changed").get()
    assert entry.data["what"] == "Active users — → 10"
    audit = AuditLogEntry.objects.get(action="plan.kpi_changed")
    assert audit.changes == {"current": [None, "10"]}
    plan.refresh_from_db()
    assert plan.status == PlanStatus.AGREED and plan.agreed_by == champion


def test_contacts_of_another_account_are_refused_naming_the_field(placed, csm):
    plan = services.create_plan(account=placed, actor=csm)
    stranger = ContactFactory(account=AccountFactory())
    objective = plan.objectives.get()
    with pytest.raises(ValidationError) as error:
        services.add_kpi(objective=objective, values=services.KpiValues(name="X", owner=stranger), actor=csm)
    assert "owner" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.add_stakeholder(plan=plan, contact=stranger, role="champion", actor=csm)
    assert "contact" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.agree_plan(plan=plan, agreed_by=stranger, agreed_on=TODAY, actor=csm)
    assert "agreed_by" in error.value.message_dict


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "A", "target": Decimal("1e15")}, "target"),
        ({"name": "A", "current": Decimal("1.00001")}, "current"),
        ({"name": "A", "baseline": Decimal("NaN")}, "baseline"),
        ({"name": "A", "due_on": date(1, 1, 1)}, "due_on"),
        ({"name": "A", "due_on": date(9999, 12, 31)}, "due_on"),
    ],
)
def test_a_kpi_out_of_range_is_refused_naming_the_field(placed, csm, values, field):
    plan = services.create_plan(account=placed, actor=csm)
    with pytest.raises(ValidationError) as error:
        services.add_kpi(objective=plan.objectives.get(), values=services.KpiValues(**values), actor=csm)
    assert field in error.value.message_dict


def test_a_milestone_may_track_only_a_milestone_of_the_accounts_framework(placed, csm):
    plan = services.create_plan(account=placed, actor=csm)
    other = MilestoneDefinition.objects.create(
        framework=FrameworkFactory(name="Other", key="other", is_default=False),
        key="x",
        name="X",
        rule={"event": "x"},
    )
    with pytest.raises(ValidationError) as error:
        services.add_milestone(
            plan=plan, values=services.MilestoneValues(title="T", milestone=other), actor=csm
        )
    assert "milestone" in error.value.message_dict


def test_a_milestone_done_gets_its_day_and_full_progress_and_a_reached_framework_milestone_shows(placed, csm):
    plan = services.create_plan(account=placed, actor=csm, today=TODAY)
    kickoff, report = plan.milestones.all()
    services.change_milestone(
        milestone=kickoff, values=services.MilestoneValues(title="Kick-off held", status="done"), actor=csm
    )
    kickoff.refresh_from_db()
    assert kickoff.progress == 100 and kickoff.done_on == timezone.localdate()
    MilestoneReached.objects.create(
        account=placed, milestone=report.milestone, reached_on=TODAY, source="rule"
    )
    view = selectors.plan_view(selectors.plan_of(placed), today=TODAY + timedelta(days=60))
    rows = {row.milestone.title: row for row in view.milestones}
    assert rows["First report shared"].reached_on == TODAY and rows["First report shared"].done
    assert rows["Kick-off held"].done
    # Both milestones due and done; the KPI has no current value yet: progress is the milestones'.
    assert view.progress == 100.0


def test_a_share_link_keeps_only_the_tokens_hash_opens_until_revoked(placed, csm):
    plan = services.create_plan(account=placed, actor=csm)
    link, token = services.create_share_link(plan=plan, language="ja", days=7, actor=csm)
    assert link.token_hash != token and len(token) >= 40
    assert selectors.link_for_token(token) == link and selectors.link_is_open(link)
    assert selectors.link_for_token(token + "x") is None
    services.revoke_share_link(link=link, actor=csm)
    services.revoke_share_link(link=link, actor=csm)  # idempotent
    link.refresh_from_db()
    assert not selectors.link_is_open(link)
    assert _plan_changes(placed) == ["created", "shared", "share_revoked"]


@pytest.mark.parametrize(
    ("language", "days", "field"), [("xx", 7, "language"), ("en", 0, "days"), ("en", 366, "days")]
)
def test_a_share_link_needs_a_site_language_and_a_sensible_life(placed, csm, language, days, field):
    plan = services.create_plan(account=placed, actor=csm)
    with pytest.raises(ValidationError) as error:
        services.create_share_link(plan=plan, language=language, days=days, actor=csm)
    assert field in error.value.message_dict


def test_a_closed_plan_cannot_be_shared_and_its_links_stop_opening(placed, csm):
    plan = services.create_plan(account=placed, actor=csm)
    link, _token = services.create_share_link(plan=plan, language="en", actor=csm)
    services.close_plan(plan=plan, actor=csm)
    link.refresh_from_db()
    assert not selectors.link_is_open(link)
    with pytest.raises(ValidationError):
        services.create_share_link(plan=plan, language="en", actor=csm)
    services.reopen_plan(plan=plan, actor=csm)
    assert SuccessPlan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT


def test_replacing_a_plan_twice_with_the_same_content_records_one_change(placed, csm, champion):
    values = lambda: services.PlanValues(  # noqa: E731
        title="Our plan",
        objectives=[
            services.ObjectiveValues(
                text="Close faster",
                kpis=[
                    services.KpiValues(
                        name="Days", baseline=Decimal(10), target=Decimal(5), current=Decimal(8)
                    )
                ],
            )
        ],
        stakeholders=[(champion, "champion")],
        milestones=[services.MilestoneValues(title="Kick-off", status=PlanMilestoneStatus.DONE)],
        agreed_by=champion,
        agreed_on=TODAY,
    )
    plan, created = services.replace_plan(account=placed, values=values(), actor=csm)
    assert created and plan.status == PlanStatus.AGREED
    done_on = plan.milestones.get().done_on
    again, created_again = services.replace_plan(account=placed, values=values(), actor=csm)
    assert not created_again and again.pk == plan.pk
    assert _plan_changes(placed) == ["created"]
    assert again.milestones.get().done_on == done_on
    assert PlanKpi.objects.filter(objective__plan=plan).count() == 1
