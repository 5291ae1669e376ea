"""Demo step "feature-requests": about forty requests the demo customers asked for over the history.

Each request is written down by the owner of the first account that asked (a CSM, from the account
page), then other accounts ask for it over the months, some twice, in their own words and language,
often through a named contact. A few requests are popular, most are asked by one to four accounts.
The CS leader, who speaks for the product, moves them through planned and in progress; some shipped
(the latest one days ago, its owners' tasks still open; the older ones' tasks done), a few were
declined. Two pairs of requests are the same thing worded differently: one pair was merged months
ago, the other is left for someone to merge (it shows as a suggested duplicate). Everything goes
through the services, backdated to when it happened, so timelines, events and history are real.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import TimelineEntry
from touchpoint.demo.builders import (
    TIMELINE_COLUMNS,
    DemoAccount,
    DemoContext,
    register_data,
    step,
    timeline_row,
)
from touchpoint.events.models import DomainEvent
from touchpoint.feature_requests import services
from touchpoint.feature_requests.models import FeatureRequest, RequestChange, Status
from touchpoint.tasks.models import Task, TaskStatus
from touchpoint.users.models import AuditLogEntry

# (title, product area, description)
CATALOGUE: tuple[tuple[str, str, str], ...] = (
    ("Export reports to CSV", "Reports", "Download any report as a CSV file for spreadsheets."),
    ("Scheduled report emails", "Reports", "Send a saved report to a list of people every week or month."),
    ("Single sign-on with Okta", "Security", "SAML sign-in through Okta, with just-in-time user creation."),
    ("Audit log export", "Security", "Export the audit log for our auditors, filtered by date."),
    ("Custom roles and permissions", "Admin", "Define roles beyond the built-in four."),
    ("Dark mode", "UI", "A dark theme for the whole application."),
    (
        "Slack notifications for health drops",
        "Integrations",
        "Post to a Slack channel when health turns red.",
    ),
    ("Salesforce two-way sync", "Integrations", "Write notes and tasks back to Salesforce."),
    ("HubSpot company sync", "Integrations", "Keep companies and contacts in step with HubSpot."),
    ("Mobile app for CSMs", "Mobile", "See my day and log calls from a phone."),
    ("Bulk edit accounts", "Accounts", "Change owner, segment or tags of many accounts at once."),
    ("Custom fields on contacts", "Accounts", "Our own fields on contacts, shown and filtered."),
    ("Multi-currency ARR reports", "Revenue", "Report ARR in each contract's currency side by side."),
    ("Forecast by renewal quarter", "Revenue", "Renewal forecast grouped by fiscal quarter."),
    ("Usage alerts per feature", "Usage", "Alert when a key feature stops being used for two weeks."),
    ("Zapier integration", "Integrations", "Triggers and actions for Zapier."),
    ("Microsoft Teams notifications", "Integrations", "Send alerts and digests to a Teams channel."),
    (
        "Two-factor authentication for all users",
        "Security",
        "Require 2FA for every account of our workspace.",
    ),
    ("IP allow list", "Security", "Only allow sign-in from our office and VPN addresses."),
    ("Data residency in the EU", "Platform", "Host our data in an EU region."),
    ("Japanese invoices with qualified invoice numbers", "Billing", "適格請求書 for the Japanese entity."),
    ("Public API rate limits per key", "Platform", "Separate limits for each integration's key."),
    ("Webhooks for task changes", "Integrations", "Notify our systems when a task is done."),
    ("Health score history export", "Reports", "All daily scores of all accounts as one file."),
    ("Email templates with attachments", "Journeys", "Attach a PDF to a journey email."),
    ("Journey A/B test reports", "Journeys", "Compare the two branches of a random split over time."),
    ("Success plan templates per segment", "Success plans", "Start each plan from the segment's template."),
    ("Customer portal for success plans", "Success plans", "Let customers see and tick their plan."),
    ("ダッシュボードのダークモード", "UI", "夜間でも見やすい暗いテーマが欲しい。"),
    ("Отчёт по продлениям в Excel", "Reports", "Выгрузка продлений квартала в Excel."),
    ("รองรับภาษาไทยในอีเมลแจ้งเตือน", "Journeys", "อีเมลแจ้งเตือนแสดงภาษาไทยได้ถูกต้อง"),
    ("Gantt view of onboarding milestones", "Success plans", "Milestones on a timeline per account."),
    ("NPS survey in-app", "Surveys", "Ask NPS inside the product, not only by email."),
    ("Churn reason analytics", "Revenue", "Churned ARR by reason and segment over time."),
    ("Account hierarchy roll-ups", "Accounts", "Parent accounts show their children's ARR and health."),
    ("Read-only access for executives", "Admin", "A cheap seat that only reads dashboards."),
    ("Quarterly business review deck export", "Reports", "A slide deck of the account's year."),
    # The merged pair: the second was written down by another CSM and merged into the first.
    ("CSV export of the reports", "Reports", "Reports as CSV, to paste into our finance sheets."),
    # The pair left for someone to merge (a suggested duplicate).
    ("Notify in Slack when health drops", "Integrations", "A Slack message when an account's health falls."),
)
MERGED = ("CSV export of the reports", "Export reports to CSV")
SUGGESTED = ("Notify in Slack when health drops", "Slack notifications for health drops")
POPULAR = {
    "Export reports to CSV",
    "Single sign-on with Okta",
    "Salesforce two-way sync",
    "Audit log export",
    "Custom roles and permissions",
}
# How the asks come out of a customer's mouth, in their language.
VERBATIMS: dict[str, tuple[str, ...]] = {
    "en_US": (
        "We need this before our renewal conversation.",
        "Our team does this by hand every week.",
        "Our VP asked about it again in the QBR.",
        "This is blocking the rollout to the second team.",
        "A competitor showed this in their demo.",
    ),
    "ja_JP": (
        "更新前にぜひ対応してほしいです。",
        "毎週手作業で対応しています。",
        "部長から四半期レビューでまた聞かれました。",
        "他部署への展開のために必要です。",
    ),
    "ru_RU": (
        "Нам это нужно до продления договора.",
        "Каждую неделю делаем это вручную.",
        "Руководитель снова спросил об этом на встрече.",
        "Без этого не можем подключить второй отдел.",
    ),
    "th_TH": (
        "เราต้องการฟีเจอร์นี้ก่อนต่ออายุสัญญา",
        "ทีมของเราทำงานนี้ด้วยมือทุกสัปดาห์",
        "ผู้บริหารถามเรื่องนี้อีกครั้งในการประชุม",
    ),
}
STATUS_NOTES = {
    Status.PLANNED: ("On the roadmap for next quarter.", "Planned after the reporting rework."),
    Status.IN_PROGRESS: ("Design done; engineering started.", "In the current sprint."),
    Status.SHIPPED: ("Released; see the release notes.", "Live for every workspace."),
    Status.DECLINED: (
        "Not in our direction; a workaround is in the help center.",
        "Too few customers need it.",
    ),
}


class _Clock:
    """The services stamp the audit log and the events they record (the tasks' among them) with
    `timezone.now()`; the demo's work happened before its day. After each piece of work, the rows
    written since (found by id) get the moment it happened."""

    STAMPED: dict[type[models.Model], tuple[str, ...]] = {
        AuditLogEntry: ("created_at",),
        DomainEvent: ("occurred_at", "created_at"),
    }

    def __init__(self) -> None:
        self.seen = self._last()

    def _last(self) -> dict[type[models.Model], int]:
        return {
            model: model._default_manager.aggregate(last=Max("pk"))["last"] or 0 for model in self.STAMPED
        }

    def stamp(self, moment: datetime) -> None:
        for model, fields in self.STAMPED.items():
            model._default_manager.filter(pk__gt=self.seen[model]).update(**dict.fromkeys(fields, moment))
        self.seen = self._last()


CLOCK: list[_Clock] = []


def _stamp(moment: datetime) -> None:
    CLOCK[0].stamp(moment)


def _moment(ctx: DemoContext, after: datetime, before: datetime) -> datetime:
    """A working hour on a day between `after` and `before` (both within the demo's window)."""
    span = max(0, (before.date() - after.date()).days)
    day = after.date() + timedelta(days=ctx.rng.randint(0, span))
    moment = ctx.at(day, ctx.rng.randint(9, 17), ctx.rng.randrange(60))
    return min(max(moment, after), before)


def _live_until(demo: DemoAccount, ctx: DemoContext) -> datetime:
    end = ctx.end - timedelta(hours=8)
    if demo.churned_on is not None:
        return min(end, ctx.at(demo.churned_on, 9))
    return end


def _ask(ctx: DemoContext, request: FeatureRequest, demo: DemoAccount, at: datetime, actor) -> None:
    contact = None
    if demo.contacts and ctx.rng.random() < 0.7:
        contact = ctx.rng.choice(demo.contacts).contact
    words = VERBATIMS.get(demo.locale, VERBATIMS["en_US"])
    services.ask(
        request=request,
        account=demo.account,
        actor=actor,
        verbatim=ctx.rng.choice(words) if ctx.rng.random() < 0.85 else "",
        contact=contact,
        asked_at=at,
    )
    _stamp(at)


@step("feature-requests", after=("revenue", "account_teams", "tasks"))
def feature_requests(ctx: DemoContext) -> None:
    CLOCK[:] = [_Clock()]
    leader = ctx.users.get("leader") or ctx.users.get("admin")
    accounts = [demo for demo in ctx.accounts if demo.account.owner_id is not None] or ctx.accounts
    if not accounts:
        return
    start = ctx.start + timedelta(days=10)
    latest = ctx.end - timedelta(days=30)
    made: dict[str, FeatureRequest] = {}
    asked_until: dict[str, datetime] = {}
    # The merged pair and the request shipped days ago were all asked for before the merge, months ago.
    early = ctx.end - timedelta(days=55)
    for title, area, description in CATALOGUE:
        cap = early if title in MERGED else None
        created = _moment(ctx, start, latest if cap is None else max(start, cap - timedelta(days=60)))
        count = ctx.rng.randint(6, 12) if title in POPULAR else ctx.rng.choice((1, 1, 2, 2, 3, 3, 4, 5))
        askers = ctx.rng.sample(accounts, min(count, len(accounts)))
        askers = [demo for demo in askers if _live_until(demo, ctx) > created] or askers[:1]
        first = askers[0]
        request = services.create_request(
            title=title,
            description=description,
            product_area=area,
            actor=first.account.owner,
            created_at=created,
        )
        _stamp(created)
        moments = []
        for index, demo in enumerate(askers):
            until = _live_until(demo, ctx) if cap is None else min(cap, _live_until(demo, ctx))
            at = created if index == 0 else max(created, _moment(ctx, created, until))
            _ask(ctx, request, demo, at, demo.account.owner)
            moments.append(at)
            if ctx.rng.random() < 0.1:  # asked again, months later
                again = _moment(ctx, at, max(at, until))
                _ask(ctx, request, demo, again, demo.account.owner)
                moments.append(again)
        made[title] = request
        asked_until[title] = max(moments)
    # The merged pair, merged after their asks and before the survivor was planned.
    duplicate, survivor = made[MERGED[0]], made[MERGED[1]]
    services.merge(
        duplicate=duplicate, survivor=survivor, actor=leader, note="Same request, worded differently."
    )
    merged_at = early + timedelta(days=5)
    _stamp(merged_at)
    FeatureRequest.objects.filter(pk=duplicate.pk).update(merged_at=merged_at, updated_at=merged_at)
    RequestChange.objects.filter(request__in=[duplicate, survivor], kind__startswith="merged").update(
        at=merged_at
    )
    asked_until[MERGED[1]] = max(asked_until[MERGED[0]], asked_until[MERGED[1]])
    _statuses(ctx, made, asked_until, leader)
    ctx.counts["feature_requests.featurerequest"] += len(made)
    ctx.shared["feature-requests"] = {"requests": made, "merged": MERGED, "suggested": SUGGESTED}


def _statuses(
    ctx: DemoContext, made: dict[str, FeatureRequest], asked_until: dict[str, datetime], leader
) -> None:
    """A mix: most new or planned, some in progress, six shipped (the latest days ago), three declined."""
    # The one shipped days ago, its owners' tasks still open: the most asked request of all.
    fresh = MERGED[1]
    titles = [
        title for title, _area, _description in CATALOGUE if title not in (MERGED[0], fresh, *SUGGESTED)
    ]
    ctx.rng.shuffle(titles)
    # The older shipped ones shipped weeks ago at least, after their last ask.
    shipped_by = ctx.end - timedelta(days=20)
    old = [title for title in titles if asked_until[title] < shipped_by - timedelta(days=10)][:5]
    rest = [title for title in titles if title not in old]
    plan = (
        [(fresh, Status.SHIPPED)]
        + [(title, Status.SHIPPED) for title in old]
        + [(title, Status.DECLINED) for title in rest[:3]]
        + [(title, Status.IN_PROGRESS) for title in rest[3:8]]
        + [(title, Status.PLANNED) for title in rest[8:16]]
    )
    for title, status in plan:
        request = made[title]
        since = asked_until[title]
        end = shipped_by if status == Status.SHIPPED else ctx.end - timedelta(hours=10)
        path = {
            Status.SHIPPED: (Status.PLANNED, Status.IN_PROGRESS, Status.SHIPPED),
            Status.IN_PROGRESS: (Status.PLANNED, Status.IN_PROGRESS),
            Status.PLANNED: (Status.PLANNED,),
            Status.DECLINED: (Status.DECLINED,),
        }[status]
        moments = sorted(_moment(ctx, since, end) for _ in path)
        if title == fresh:
            moments = [ctx.end - timedelta(days=days, hours=10) for days in (40, 20, 4)]
        for step_status, at in zip(path, moments, strict=True):
            services.change_status(
                request=request,
                status=step_status,
                note=ctx.rng.choice(STATUS_NOTES[step_status]),
                actor=leader,
                at=at,
            )
            _stamp(at)
        if status == Status.SHIPPED:
            tasks = Task.objects.filter(about_url=services.request_url(request))
            if title == fresh:
                tasks.update(created_at=moments[-1])
            else:
                # Told long ago: the owners' tasks were done within days.
                tasks.update(
                    status=TaskStatus.DONE,
                    created_at=moments[-1],
                    closed_at=moments[-1] + timedelta(days=2),
                    due_on=(moments[-1] + timedelta(days=services.TASK_DUE_IN_DAYS)).date(),
                )
                task_type = ContentType.objects.get_for_model(Task).pk
                done_entries = []
                for task in tasks.order_by("pk"):
                    Task.objects.filter(pk=task.pk).update(closed_by_id=task.owner_id)
                    if (
                        task.account_id is not None and task.closed_at is not None
                    ):  # as complete_task records it
                        done_entries.append(
                            timeline_row(
                                account_id=task.account_id,
                                kind="task_done",
                                occurred_at=task.closed_at,
                                title=f"Task done: {task.title}",
                                subject_type_id=task_type,
                                subject_id=task.pk,
                                data={"title": task.title},
                                actor_id=task.owner_id,
                            )
                        )
                ctx.insert_rows(TimelineEntry, TIMELINE_COLUMNS, done_entries)
            ctx.counts["tasks.task"] += tasks.count()


def _delete() -> None:
    FeatureRequest.objects.filter(merged_into__isnull=False).delete()
    FeatureRequest.objects.all().delete()


register_data(
    "feature requests",
    label=_("feature requests"),
    count=lambda: FeatureRequest.objects.count(),
    delete=_delete,
    order=20,
)
