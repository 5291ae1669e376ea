"""Demo step "surveys": a relationship NPS survey answered quarterly for 18 months, and a support CSAT.

Each quarter about half of each account's key people answer the NPS survey. How they score follows
the account's fit (a model customer has mostly promoters) and its fate: in the six months before an
account churned (`churned_on`, from the revenue step) its people turn into detractors, so the demo
shows detractors who churned later; nobody answers after the churn. About two answers in three carry
a comment in the account's language (English, Japanese, Russian or Thai) about a few topics (price,
support, reports, onboarding, reliability), so the themes have something to group. Some accounts
also answered a support CSAT in the last six months.

Answers, their timeline entries and `survey.answered` events are written in bulk, backdated; the
detractors of the last three weeks have their risk task through the service, as a live answer would.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
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
from touchpoint.surveys import metrics, services
from touchpoint.surveys.models import Answer, Channel, Decline, Survey, SurveySettings
from touchpoint.tasks.models import Task
from touchpoint.users.models import AuditLogEntry

MONTHS = 18
RECENT_TASK_DAYS = 21

NPS_TEXTS = {
    "en": {
        "question": "How likely are you to recommend Touchpoint Cloud to a friend or colleague?",
        "follow_up": "What is the main reason for your score?",
        "subject": "One question about Touchpoint Cloud",
    },
    "ja": {
        "question": "Touchpoint Cloud を友人や同僚に勧める可能性はどのくらいありますか？",
        "follow_up": "そのスコアの一番の理由は何ですか？",
        "subject": "Touchpoint Cloud についてのご質問",
    },
    "ru": {
        "question": "Насколько вероятно, что вы порекомендуете Touchpoint Cloud другу или коллеге?",
        "follow_up": "Какова главная причина вашей оценки?",
        "subject": "Один вопрос о Touchpoint Cloud",
    },
    "th": {
        "question": "คุณมีแนวโน้มที่จะแนะนำ Touchpoint Cloud ให้เพื่อนหรือเพื่อนร่วมงานมากน้อยเพียงใด",
        "follow_up": "เหตุผลหลักของคะแนนนี้คืออะไร",
        "subject": "คำถามหนึ่งข้อเกี่ยวกับ Touchpoint Cloud",
    },
}
CSAT_TEXTS = {
    "en": {"question": "How satisfied are you with the help you got from our support team?"},
    "ja": {"question": "サポートチームの対応にどのくらい満足していますか？"},
    "ru": {"question": "Насколько вы довольны помощью нашей службы поддержки?"},
    "th": {"question": "คุณพอใจกับความช่วยเหลือจากทีมสนับสนุนของเรามากน้อยเพียงใด"},
}

# Comments by language and category: a few topics each, said a few ways.
COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "promoter": (
            "The reports save us hours every week.",
            "Great reports, the team loves the dashboards.",
            "Support answers fast and knows the product.",
            "Fast support and a reliable product.",
            "Onboarding was smooth and quick.",
        ),
        "passive": (
            "Good product, but the price went up.",
            "Reports are fine, exports could be better.",
            "Onboarding took longer than planned.",
            "Works well, the price is a bit high.",
        ),
        "detractor": (
            "Too expensive for what we use.",
            "The price increase is hard to justify.",
            "Support is slow, tickets wait for days.",
            "Slow support and nobody follows up.",
            "Outages every month, not reliable.",
            "The product is down too often.",
        ),
    },
    "ja": {
        "promoter": (
            "レポートのおかげで毎週何時間も節約できています。",
            "レポートとダッシュボードがとても便利です。",
            "サポートの対応が早くて助かります。",
            "サポートが丁寧で早いです。",
            "導入がスムーズでした。",
        ),
        "passive": (
            "良い製品ですが価格が上がりました。",
            "レポートは良いがエクスポートが弱い。",
            "導入に予定より時間がかかりました。",
        ),
        "detractor": (
            "価格が高すぎます。",
            "価格の値上げに納得できません。",
            "サポートの返事が遅いです。",
            "サポートが遅く、フォローもありません。",
            "障害が多く、信頼できません。",
        ),
    },
    "ru": {
        "promoter": (
            "Отчёты экономят нам часы каждую неделю.",
            "Отличные отчёты, команда любит дашборды.",
            "Поддержка отвечает быстро и по делу.",
            "Быстрая поддержка и надёжный продукт.",
            "Внедрение прошло быстро и гладко.",
        ),
        "passive": (
            "Хороший продукт, но цена выросла.",
            "Отчёты неплохие, экспорт слабый.",
            "Внедрение заняло больше времени, чем планировали.",
        ),
        "detractor": (
            "Слишком дорого для того, чем мы пользуемся.",
            "Повышение цены трудно оправдать.",
            "Поддержка медленная, заявки ждут днями.",
            "Медленная поддержка, никто не перезванивает.",
            "Сбои каждый месяц, продукт ненадёжный.",
        ),
    },
    "th": {
        "promoter": (
            "รายงานช่วยประหยัดเวลาหลายชั่วโมงทุกสัปดาห์",
            "รายงานและแดชบอร์ดดีมาก",
            "ฝ่ายสนับสนุนตอบเร็วและเข้าใจระบบ",
            "ฝ่ายสนับสนุนตอบเร็วมาก",
            "การเริ่มใช้งานราบรื่นและรวดเร็ว",
        ),
        "passive": (
            "ระบบดีแต่ราคาสูงขึ้น",
            "รายงานดีแต่การส่งออกยังไม่ดี",
            "การเริ่มใช้งานใช้เวลานานกว่าที่วางแผน",
        ),
        "detractor": (
            "ราคาแพงเกินไป",
            "ราคาขึ้นจนรับไม่ได้",
            "ฝ่ายสนับสนุนตอบช้ามาก",
            "ฝ่ายสนับสนุนช้าและไม่ติดตามงาน",
            "ระบบล่มบ่อยเกินไป",
        ),
    },
}


def _language(demo_account: DemoAccount) -> str:
    return demo_account.locale.split("_")[0] if demo_account.locale else "en"


def _nps_score(ctx: DemoContext, fit: float, turning_away: bool) -> int:
    rng = ctx.rng
    if turning_away:
        return rng.choice((0, 1, 2, 3, 3, 4, 5, 5, 6, 6, 7))
    roll = rng.random()
    promoter = 0.2 + 0.6 * fit
    detractor = 0.05 + 0.35 * (1 - fit)
    if roll < promoter:
        return rng.choice((9, 9, 10, 10, 10))
    if roll < promoter + detractor:
        return rng.choice((2, 3, 4, 5, 6, 6))
    return rng.choice((7, 8, 8))


def _comment(ctx: DemoContext, language: str, category: str) -> str:
    if ctx.rng.random() > 0.65:
        return ""
    return ctx.rng.choice(COMMENTS.get(language, COMMENTS["en"])[category])


@step("surveys", after=("revenue", "account_teams", "journeys"))
def surveys(ctx: DemoContext) -> None:
    nps = services.create_survey(name="Relationship NPS", key="relationship-nps", kind="nps", texts=NPS_TEXTS)
    csat = services.create_survey(
        name="Support CSAT", key="support-csat", kind="csat", texts=CSAT_TEXTS, on_detractor="nothing"
    )
    start = max(ctx.start.date(), ctx.anchor - timedelta(days=30 * MONTHS))
    answers: list[Answer] = []
    for demo_account in ctx.accounts:
        account = demo_account.account
        language = _language(demo_account)
        people = [
            c.contact for c in demo_account.contacts if {"champion", "decision_maker", "user"} & set(c.roles)
        ]
        people = people or [c.contact for c in demo_account.contacts]
        if not people:
            continue
        first = max(start, account.created_at.date() + timedelta(days=30))
        day = first + timedelta(days=ctx.rng.randrange(0, 60))
        last = demo_account.churned_on or ctx.anchor
        while day < last:
            turning_away = demo_account.churned_on is not None and (demo_account.churned_on - day).days <= 180
            for contact in people:
                if contact.created_at.date() > day or ctx.rng.random() > 0.5:
                    continue
                score = _nps_score(ctx, demo_account.fit, turning_away)
                category = metrics.nps_category(score)
                moment = ctx.at(day, ctx.rng.randrange(8, 19), ctx.rng.randrange(0, 60))
                answers.append(
                    Answer(
                        survey=nps,
                        account=account,
                        contact=contact,
                        score=score,
                        comment=_comment(ctx, language, category),
                        category=category,
                        language=language,
                        channel=Channel.EMAIL,
                        answered_at=moment,
                        created_at=moment,
                    )
                )
            day += timedelta(days=90 + ctx.rng.randrange(-10, 11))
        # Support CSAT: a third of the live accounts, a few answers in the last six months.
        if demo_account.churned_on is None and ctx.rng.random() < 0.35:
            for _n in range(ctx.rng.randrange(1, 4)):
                day = ctx.anchor - timedelta(days=ctx.rng.randrange(1, 180))
                if day <= account.created_at.date():
                    continue
                moment = ctx.at(day, ctx.rng.randrange(8, 19))
                score = (
                    ctx.rng.choice((5, 5, 4, 4, 4, 3, 2))
                    if demo_account.fit > 0.4
                    else ctx.rng.choice((4, 3, 2, 2, 1))
                )
                answers.append(
                    Answer(
                        survey=csat,
                        account=account,
                        contact=ctx.rng.choice(people),
                        score=score,
                        language=language,
                        channel=Channel.EMAIL,
                        answered_at=moment,
                        created_at=moment,
                    )
                )
    answers.sort(key=lambda answer: answer.answered_at)
    created = ctx.bulk_create(Answer, answers, count_as="survey answers")
    _timeline_and_events(ctx, created, {nps.pk: nps, csat.pk: csat})
    _recent_detractor_tasks(ctx, created)
    _history_is_not_replayed()
    ctx.shared["surveys"] = {"nps": nps.pk, "csat": csat.pk}


def _timeline_and_events(ctx: DemoContext, answers: list[Answer], surveys: dict[int, Survey]) -> None:
    answer_type = ContentType.objects.get_for_model(Answer).pk
    rows = []
    events = []
    for answer in answers:
        survey = surveys[answer.survey_id]
        contact = answer.contact
        rows.append(
            timeline_row(
                account_id=answer.account_id,
                kind=services.TIMELINE_KIND,
                occurred_at=answer.answered_at,
                title=f"{survey.name}: {answer.score}",
                body=answer.comment,
                subject_type_id=answer_type,
                subject_id=answer.pk,
                data={
                    "survey_id": survey.pk,
                    "survey": survey.name,
                    "survey_key": survey.key,
                    "kind": survey.kind,
                    "score": answer.score,
                    "category": answer.category,
                    "contact": contact.name if contact is not None else "",
                },
            )
        )
        events.append(
            DomainEvent(
                kind=services.EVENT_KIND,
                account_id=answer.account_id,
                subject_type="surveys.answer",
                subject_id=answer.pk,
                payload={
                    "survey_id": survey.pk,
                    "answer_id": answer.pk,
                    "contact_id": answer.contact_id,
                    "kind": survey.kind,
                    "score": answer.score,
                    "category": answer.category,
                },
                occurred_at=answer.answered_at,
            )
        )
    ctx.insert_rows(TimelineEntry, TIMELINE_COLUMNS, rows, count_as="timeline entries")
    ctx.bulk_create(DomainEvent, events, count_as="domain events")


_STAMPED = {
    DomainEvent: ("occurred_at", "created_at"),
    AuditLogEntry: ("created_at",),
    TimelineEntry: ("occurred_at", "created_at"),
    Task: ("created_at",),
}


def _recent_detractor_tasks(ctx: DemoContext, answers: list[Answer]) -> None:
    """The risk task of each recent detractor, through the service, dated when the answer came."""
    since = ctx.end - timedelta(days=RECENT_TASK_DAYS)
    for answer in answers:
        if answer.category != "detractor" or answer.answered_at < since:
            continue
        before = {model: model._default_manager.aggregate(top=Max("pk"))["top"] or 0 for model in _STAMPED}
        services._detractor_task(answer, today=answer.answered_at.date())
        for model, fields in _STAMPED.items():
            model._default_manager.filter(pk__gt=before[model]).update(
                **dict.fromkeys(fields, answer.answered_at)
            )
        ctx.counts["detractor tasks"] += 1


def _history_is_not_replayed() -> None:
    """The answers are history: journeys' event trigger starts after them (as its own demo step does)."""
    from touchpoint.events.models import ConsumerPosition
    from touchpoint.journeys.triggers import CONSUMER

    newest = DomainEvent.objects.order_by("-transaction_id", "-id").first()
    if newest is not None and ConsumerPosition.objects.filter(name=CONSUMER).exists():
        ConsumerPosition.objects.filter(name=CONSUMER).update(
            transaction_id=newest.transaction_id, event_id=newest.pk
        )


def _delete() -> Any:
    TimelineEntry.objects.filter(kind=services.TIMELINE_KIND).delete()
    DomainEvent.objects.filter(kind=services.EVENT_KIND).delete()
    Answer.objects.all().delete()
    Decline.objects.all().delete()
    Survey.objects.all().delete()
    SurveySettings.objects.all().delete()
    return None


register_data(
    "surveys",
    label=_("survey answers"),
    count=lambda: Answer.objects.count() + Survey.objects.count(),
    delete=_delete,
    order=3,
)
