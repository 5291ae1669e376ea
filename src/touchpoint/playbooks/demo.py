"""The demo company's playbooks: renewal playbooks on the accounts renewing soonest (as the daily scan
starts them, with the rule's occurrence key, so the real scan later starts no second one), onboarding
on the newest accounts, a risk escalation on the weakest fits. Steps due before the demo's day are
mostly done.

Written as `start_playbook` and `complete_task` write them (the same planning, `plan_tasks`), but with
the demo's own clock: the runs start on days before the anchor date and nothing happens after it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account, TimelineEntry
from touchpoint.demo.builders import TIMELINE_COLUMNS, DemoContext, register_data, step, timeline_row
from touchpoint.playbooks import triggers
from touchpoint.playbooks.models import (
    Playbook,
    PlaybookRule,
    PlaybookRun,
    PlaybookRunStep,
    RuleKind,
    RunTrigger,
)
from touchpoint.playbooks.services import plan_tasks
from touchpoint.revenue.models import LIVE_STATUSES, Subscription
from touchpoint.tasks.models import Task, TaskSource, TaskStatus

RENEWALS = 8
ONBOARDING = 3
RISK = 3


class _Writer:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.run_type = ContentType.objects.get_for_model(PlaybookRun).pk
        self.task_type = ContentType.objects.get_for_model(Task).pk
        self.timeline: list[tuple] = []
        self.runs = 0

    def start(
        self,
        *,
        account: Account,
        playbook: Playbook,
        started_on: date,
        anchor: date,
        rule: PlaybookRule | None = None,
        occurrence_key: str = "",
    ) -> None:
        ctx = self.ctx
        steps = list(playbook.steps.order_by("position"))
        if not steps or PlaybookRun.objects.filter(account=account, playbook=playbook).exists():
            return
        started_at = ctx.at(started_on, 8, ctx.rng.randrange(60))
        actor = None if rule is not None else account.owner
        run = PlaybookRun.objects.create(
            playbook=playbook,
            account=account,
            trigger=RunTrigger.RULE if rule is not None else RunTrigger.MANUAL,
            rule=rule,
            occurrence_key=occurrence_key,
            anchor_date=anchor,
            started_at=started_at,
            started_by=actor,
        )
        planned = plan_tasks(
            account=account, playbook=playbook, steps=steps, anchor_date=anchor, today=started_on
        )
        for index, item in enumerate(planned):
            # Work due before the demo's day is mostly done (never the last step: the run goes on).
            done = item.due.due_on < ctx.anchor and index < len(planned) - 1 and ctx.rng.random() < 0.8
            closed_at = ctx.at(item.due.due_on, 15, ctx.rng.randrange(60)) if done else None
            task = Task.objects.create(
                account=account,
                title=item.step.title,
                owner=item.owner,
                due_on=item.due.due_on,
                priority=item.step.priority,
                type=item.step.task_type,
                status=TaskStatus.DONE if done else TaskStatus.OPEN,
                source=TaskSource.PLAYBOOK,
                notes=item.notes,
                created_by=actor,
                created_at=started_at,
                closed_at=closed_at,
                closed_by=item.owner if done else None,
            )
            PlaybookRunStep.objects.create(
                run=run, step=item.step, position=item.step.position, title=item.step.title, task=task
            )
            if done and closed_at is not None:
                self.timeline.append(
                    timeline_row(
                        account_id=account.pk,
                        kind="task_done",
                        occurred_at=closed_at,
                        title=f"Task done: {task.title}",
                        actor_id=item.owner.pk if item.owner else None,
                        subject_type_id=self.task_type,
                        subject_id=task.pk,
                        data={"title": task.title},
                    )
                )
        self.timeline.append(
            timeline_row(
                account_id=account.pk,
                kind="playbook_started",
                occurred_at=started_at,
                title=f"Playbook started: {playbook.name}",
                actor_id=actor.pk if actor else None,
                subject_type_id=self.run_type,
                subject_id=run.pk,
                data={
                    "playbook": playbook.name,
                    "steps": len(planned),
                    "moved_to_today": sum(1 for item in planned if item.due.moved),
                    "trigger": run.trigger,
                },
            )
        )
        self.runs += 1


@step("playbooks", after=("revenue", "account_teams"))
def playbooks(ctx: DemoContext) -> None:
    if not ctx.accounts:
        return
    writer = _Writer(ctx)
    yesterday = ctx.anchor - timedelta(days=1)
    renewal_rule = PlaybookRule.objects.select_related("playbook").filter(kind=RuleKind.RENEWAL_DUE).first()
    if renewal_rule is not None and renewal_rule.is_active and renewal_rule.playbook.is_active:
        window = int(renewal_rule.parameters.get("days_before", triggers.DEFAULT_DAYS_BEFORE_RENEWAL))
        soonest = (
            Subscription.objects.filter(
                status__in=LIVE_STATUSES,
                renewal_date__gte=ctx.anchor,
                renewal_date__lte=ctx.anchor + timedelta(days=window),
            )
            .select_related("account__owner")
            .order_by("renewal_date", "account__name", "product")
        )
        seen: set[str] = set()
        for subscription in soonest:
            if len(seen) >= RENEWALS or subscription.renewal_date is None:
                break
            if subscription.account.name in seen:
                continue
            seen.add(subscription.account.name)
            # The scan started it the day the renewal entered its window (or, for the demo's history, lately).
            started_on = min(
                max(subscription.renewal_date - timedelta(days=window), ctx.anchor - timedelta(days=14)),
                yesterday,
            )
            writer.start(
                account=subscription.account,
                playbook=renewal_rule.playbook,
                started_on=started_on,
                anchor=subscription.renewal_date,
                rule=renewal_rule,
                occurrence_key=triggers.renewal_key(subscription.pk, subscription.renewal_date),
            )
    by_name = {playbook.name: playbook for playbook in Playbook.objects.filter(is_active=True)}
    newest = sorted(ctx.accounts, key=lambda a: (a.account.created_at, a.account.name), reverse=True)
    if "Onboarding" in by_name:
        for demo_account in newest[:ONBOARDING]:
            started_on = min(demo_account.account.created_at.astimezone(ctx.tz).date(), yesterday)
            writer.start(
                account=demo_account.account,
                playbook=by_name["Onboarding"],
                started_on=started_on,
                anchor=started_on,
            )
    if "Risk escalation" in by_name:
        for demo_account in sorted(ctx.accounts, key=lambda a: (a.fit, a.account.name))[:RISK]:
            started_on = ctx.anchor - timedelta(days=ctx.rng.randint(2, 20))
            writer.start(
                account=demo_account.account,
                playbook=by_name["Risk escalation"],
                started_on=started_on,
                anchor=started_on,
            )
    ctx.insert_rows(TimelineEntry, TIMELINE_COLUMNS, writer.timeline)
    ctx.counts["playbooks.playbookrun"] += writer.runs


register_data(
    "playbook_runs",
    label=_("playbook runs"),
    count=lambda: PlaybookRun.objects.count(),
    delete=lambda: PlaybookRun.objects.all().delete(),
    order=5,
)
