"""No GET writes: every page, panel, export and API read is answered without an INSERT, UPDATE or DELETE.
An export (a download: Content-Disposition attachment) writes exactly one row, its audit entry.

The walk covers every URL pattern and every GET operation of the API, so a new read that writes
(a lazy get_or_create, a refresh on the read path) fails here.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, ContactFactory, EngagementFactory, UserFactory
from tests.playbooks.conftest import ship_playbooks
from touchpoint.accounts.models import SavedView
from touchpoint.api import api
from touchpoint.health import services as health_services
from touchpoint.health.models import Scorecard
from touchpoint.integrations.models import ImportJob
from touchpoint.playbooks.models import Playbook, PlaybookRule
from touchpoint.playbooks.services import start_playbook
from touchpoint.revenue import services as revenue
from touchpoint.tasks.services import create_task
from touchpoint.usage.models import PendingRollup
from touchpoint.usage.services import create_source, ingest
from touchpoint.users.roles import Role
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
# The rate limit's counter (touchpoint.users.ratelimit): every API call counts, reads too, by design.
RATE_LIMIT_COUNTER = re.compile(r'^\s*(INSERT INTO|DELETE FROM) "users_ratelimitwindow"', re.IGNORECASE)
# Not reads: the admin (Django's own), the tracking API and webhooks (POST only), logging out.
SKIP_PREFIXES = ("admin/", "api/", "i18n/", "v1/", "webhooks/", "logout/")


def _walk(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found.extend(_walk(entry, route))
        else:
            found.append((route, entry))
    return found


def _fill(route: str, ids: dict[str, int | str]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(ids[match.group(1)]), route).replace("^", "")


@pytest.fixture
def data(admin_user):
    owner = UserFactory(role=Role.CSM)
    account = AccountFactory(owner=owner, external_id="acme")
    contact = ContactFactory(account=account)
    EngagementFactory(account=account)
    subscription = revenue.create_subscription(
        confirm=True,
        account=account,
        product="Cloud",
        mrr="1000",
        started_on=date.today() - timedelta(days=60),
    )
    health_services.recompute_health()
    source = create_source(name="App", actor=None)
    ingest(
        source=source,
        payloads=[
            {
                "type": "track",
                "messageId": "m1",
                "userId": "u1",
                "event": "Report created",
                "context": {"groupId": "acme"},
                "timestamp": timezone.now().isoformat(),
            }
        ],
    )
    assert PendingRollup.objects.exists()  # a read that refreshed rollups would write here
    job = ImportJob.objects.create(
        kind="accounts", original_name="a.csv", stored_name="stored-a.csv", encoding="utf-8", delimiter=","
    )
    task = create_task(account=account, title="Call", due_on=date.today(), actor=owner)
    from touchpoint.home.models import Alert

    alert = Alert.objects.create(recipient=admin_user, account=account, kind="test", title="An alert")
    ship_playbooks()
    start_playbook(account=account, playbook=Playbook.objects.get(name="Onboarding"), actor=owner)
    from touchpoint.journeys import engine
    from touchpoint.journeys import services as journeys
    from touchpoint.journeys.consent import unsubscribe_token

    journey_version = journeys.save_version(
        source="key: reads\nname: Reads\nentry: {trigger: manual}\nmessages:\n  hello:\n"
        "    en: {subject: Hi, body: Hello}\nsteps:\n  - {id: pause, type: wait, days: 3}\n"
        "  - {id: mail, type: email, message: hello}\n"
    )
    journeys.launch(journey=journey_version.journey)
    assert engine.enroll(version=journey_version, account=account) is not None
    from touchpoint.journeys import simulation_runs

    simulation_run, _started = simulation_runs.start_run(version=journey_version, days=30)
    simulation_runs.simulate_task.call(simulation_run.pk)  # done: the page shows its result
    from touchpoint.success.demo import LIBRARY
    from touchpoint.success.documents import apply_text

    # The shipped framework (the default) has usage milestones: "Report created" above reaches its
    # first value, so the milestone panel and time to value show numbers.
    framework = apply_text((LIBRARY / "standard.yaml").read_text(), actor=None)
    from touchpoint.success.milestones import record_from_usage
    from touchpoint.usage import rollups

    rollups.refresh_pending()
    PendingRollup.objects.create(account=account, day=date.today())
    record_from_usage()
    from touchpoint.plans import services as plans

    plans.create_plan(account=account, actor=owner)
    from touchpoint.success.models import AccountPlacement, MilestoneDefinition, SuccessFramework

    funnel_framework = SuccessFramework.objects.create(name="Reads funnel", key="reads-funnel")
    stalled_before = MilestoneDefinition.objects.create(
        framework=funnel_framework, key="first", name="First", stall_after_days=5
    )
    AccountPlacement.objects.update_or_create(
        account=account,
        defaults={"framework": funnel_framework, "started_on": date.today() - timedelta(days=60)},
    )
    from touchpoint.readiness import library
    from touchpoint.readiness import services as readiness

    # A map from the shipped template, with an answer, a
    # link, a comment, a task about a gap and a month of uptime: every part of its pages has rows.
    readiness_map = readiness.create_map(
        name="Reads map", product="Cloud", actor=admin_user, start_from=library.template("standard", "en")
    )
    touchpoint = readiness.update_touchpoint(
        touchpoint=readiness_map.touchpoints.order_by("pk").first(), owner=owner, actor=admin_user
    )
    readiness.answer_question(item=touchpoint.checklist.order_by("pk").first(), answer="partly", actor=owner)
    readiness.link(touchpoint=touchpoint, kind="journey", target="reads", actor=admin_user)
    readiness.add_comment(touchpoint=touchpoint, body="Legal has the draft.", actor=admin_user)
    readiness.set_status_by_hand(touchpoint=touchpoint, status="gap", reason="No owner yet", actor=admin_user)
    readiness.make_task(touchpoint=touchpoint, due_on=date.today(), actor=admin_user)
    readiness.record_uptime(
        product="Cloud",
        month=date.today().replace(day=1) - timedelta(days=1),
        uptime_percent="99.95",
        actor=None,
    )
    from touchpoint.feature_requests import services as feature_requests

    feature_request = feature_requests.create_request(title="Export reports to CSV", actor=owner)
    feature_requests.ask(request=feature_request, account=account, contact=contact, actor=owner)
    feature_requests.create_request(title="CSV export of the reports", actor=owner)  # a duplicate to suggest
    from touchpoint.advocacy import services as advocacy

    # An advocate with a done ask (its activity), an open ask, a reward and a candidate: every part
    # of the advocacy pages and panel has rows.
    advocate_contact = ContactFactory(account=account)
    done_ask = advocacy.ask(contact=advocate_contact, kind="review", actor=owner)
    advocacy.change_ask(the_ask=done_ask, status="done", actor=owner)
    advocate = advocate_contact.advocate
    advocacy.give_reward(advocate=advocate, kind="gift", value=25, actor=owner)
    open_ask = advocacy.ask(contact=contact, kind="case_study", actor=owner)
    advocacy.mark_candidate(contact=contact, actor=owner)
    ticket = _support_ticket(account)
    from touchpoint.surveys import sending as survey_sending
    from touchpoint.surveys import services as surveys

    survey = surveys.create_survey(
        name="Reads NPS", key="reads", texts={"ja": {"question": "おすすめしますか？"}}
    )
    for score, comment in ((10, "Great reports"), (3, "Support is slow"), (8, "")):
        surveys.record_answer(survey=survey, account=account, contact=contact, score=score, comment=comment)
    contact.email = contact.email or "reads@example.com"
    contact.save()
    survey_sending.send_survey(
        survey=survey, contacts=[ContactFactory(account=account, email="ask@example.com")]
    )
    return {
        "advocate_id": advocate.pk,
        "ask_id": open_ask.pk,
        "ticket_id": ticket.pk,
        "request_id": feature_request.pk,
        "map_id": readiness_map.pk,
        "touchpoint_id": touchpoint.pk,
        "key": "reads",
        "token": unsubscribe_token(contact),
        "step_id": "pause",
        "message": "hello",
        "language": "en",
        "rule_id": PlaybookRule.objects.get(kind="renewal_due").pk,
        "playbook_id": Playbook.objects.get(name="Renewal").pk,
        "account_id": account.pk,
        "alert_id": alert.pk,
        "contact_id": contact.pk,
        "subscription_id": subscription.pk,
        "scorecard_id": Scorecard.objects.get(segment__isnull=True).pk,
        "source_id": source.pk,
        "key_id": create_api_key(user=admin_user)[0].pk,
        "job_id": job.pk,
        "view_id": SavedView.objects.create(
            user=owner, name="Renewals first", query="sort=renewal", shared=True
        ).pk,
        "name": "movements",
        "task_id": task.pk,
        "opportunity_id": subscription.renewal_opportunities.get().pk,
        "message_id": 1,
        "run_id": simulation_run.pk,
        "framework_id": framework.pk,
        "framework": framework.key,
        "milestone_id": stalled_before.pk,
        "user_id": owner.pk,
    }


def _support_ticket(account):
    """An urgent ticket under a policy, breached, with a webhook source: the support pages have rows."""
    from datetime import time

    from django.utils import timezone

    from touchpoint.support import services as support

    calendar = support.save_calendar(
        name="Weekdays",
        time_zone="Europe/Berlin",
        working_days=[0, 1, 2, 3, 4],
        opens_at=time(9),
        closes_at=time(17),
        holidays=[],
        actor=None,
    )
    support.save_policy(
        name="Default",
        segment=None,
        calendar=calendar,
        targets={"urgent": {"first_reply_minutes": 1, "resolution_minutes": 60}},
        actor=None,
    )
    support.create_webhook_source(key="zendesk", kind="zendesk", actor=None)
    opened = timezone.now() - timedelta(days=5)
    ticket, _outcome = support.upsert_ticket(
        data=support.TicketData(
            subject="Export stuck",
            opened_at=opened,
            updated_at=opened,
            priority="urgent",
            status="open",
            source="zendesk",
            external_id="1",
        ),
        account=account,
        actor=None,
    )
    return ticket


AUDIT_INSERT = re.compile(r'^\s*INSERT INTO "users_auditlogentry"', re.IGNORECASE)
EXPORTED: dict[str, int] = {}  # each export's URL → how many audit entries its download wrote


def _writes(client, url: str, **headers) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if WRITE.match(q["sql"]) and not RATE_LIMIT_COUNTER.match(q["sql"])
    ]
    if response.get("Content-Disposition", "").startswith("attachment"):
        # An export: its download is written to the audit log (touchpoint.users.audit.record_export),
        # and that audit entry is the one write it may make.
        EXPORTED[url] = sum(1 for sql in writes if AUDIT_INSERT.match(sql))
        writes = [sql for sql in writes if not AUDIT_INSERT.match(sql)]
    return response.status_code, writes


def test_no_page_or_panel_writes_on_get(data, admin_user):
    client = logged_in_client(admin_user)
    checked = []
    for route, pattern in _walk(get_resolver()):
        if route.startswith(SKIP_PREFIXES):
            continue
        url = _fill(route, data)
        status, writes = _writes(client, url)
        if status == 405:
            continue  # a POST-only view
        assert status < 500, url
        assert writes == [], f"GET {url} wrote: {writes}"
        checked.append(url)
        if pattern.name in {
            "account-usage",
            "portfolio",
            "renewals",
            "tasks",
            "account-tasks",
            "account-playbooks",
            "account-journeys",
            "account-success-phase",
            "account-milestones",
            "account-success-plan",
            "account-plan-panel",
            "account-advocacy",
            "account-support",
            "account-feature-requests",
            "account-surveys",
        }:
            status, writes = _writes(client, url, HTTP_HX_REQUEST="true")  # the htmx partials too
            assert writes == [], f"htmx GET {url} wrote: {writes}"
    for must in (
        "/accounts/",
        f"/accounts/{data['account_id']}/",
        "/revenue/",
        "/renewals/",
        "/health/scorecards/",
        "/journeys/",
        "/journeys/reads/",
        "/journeys/reads/stats/",
        f"/journeys/reads/simulations/{data['run_id']}/",
        f"/accounts/{data['account_id']}/journeys/",
        "/success/frameworks/",
        f"/success/frameworks/{data['framework_id']}/",
        f"/success/frameworks/{data['framework_id']}/edit/",
        f"/accounts/{data['account_id']}/success-phase/",
        f"/accounts/{data['account_id']}/milestones/",
        "/success/time-to-value/",
        f"/accounts/{data['account_id']}/success-plan/",
        f"/accounts/{data['account_id']}/success-plan/panel/",
        "/advocacy/",
        "/advocacy/pool/",
        "/advocacy/asks/",
        f"/advocacy/contacts/{data['contact_id']}/",
        f"/accounts/{data['account_id']}/advocacy/",
        "/support/",
        "/support/settings/",
        f"/support/tickets/{data['ticket_id']}/",
        f"/accounts/{data['account_id']}/support/",
        "/feature-requests/",
        f"/feature-requests/{data['request_id']}/",
        f"/accounts/{data['account_id']}/feature-requests/",
        "/surveys/",
        "/surveys/reads/",
        f"/accounts/{data['account_id']}/surveys/",
    ):
        assert must in checked
    assert any(url.endswith("/usage/") for url in checked) and any(
        url.endswith("/health/") for url in checked
    )
    # Every export the walk downloaded wrote its one audit entry.
    assert len(EXPORTED) >= 8 and {url: n for url, n in EXPORTED.items() if n != 1} == {}, EXPORTED


def test_no_api_read_writes(data, admin_user):
    from django.test import Client

    key = create_api_key(user=admin_user)[1]
    client = Client()
    paths = api.get_openapi_schema()["paths"]
    # The key's last-use stamp is the one write an API read may make, at most once a minute: use the
    # key once first, so what follows is the reads themselves.
    assert _writes(client, "/api/v1/accounts", HTTP_AUTHORIZATION=f"Bearer {key}")[1] != []
    checked = 0
    for path, operations in paths.items():
        if "get" not in operations:
            continue
        url = re.sub(r"\{(\w+)\}", lambda match: str(data[match.group(1)]), path)
        status, writes = _writes(client, url, HTTP_AUTHORIZATION=f"Bearer {key}")
        assert status < 500, url
        assert writes == [], f"GET {url} wrote: {writes}"
        checked += 1
    assert checked >= 10


def test_the_survey_answer_page_reads_without_writing(data):
    """A mail scanner following a survey link (and its scale buttons) writes nothing."""
    from django.test import Client

    from touchpoint.journeys.models import OutboxRow
    from touchpoint.surveys.sending import answer_path

    path = answer_path(OutboxRow.objects.get(payload__survey="reads"))
    for url in (path, path + "?score=2"):
        status, writes = _writes(Client(), url)
        assert status == 200 and writes == [], f"GET {url} wrote: {writes}"


def test_the_placement_panel_reads_without_writing(data, admin_user):
    from touchpoint.success.placement import place_all

    place_all()  # placed, so the panel shows facts and the next phase's rules
    client = logged_in_client(admin_user)
    url = f"/accounts/{data['account_id']}/success-phase/"
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        status, writes = _writes(client, url, **headers)
        assert status == 200 and writes == [], writes


def test_the_funnel_page_drill_down_and_api_do_not_write(data, admin_user):
    from django.test import Client

    client = logged_in_client(admin_user)
    for url in (
        "/success/funnel/",
        "/success/funnel/?cohort=2026-01",
        f"/success/funnel/stalled/{data['milestone_id']}/",
    ):
        status, writes = _writes(client, url)
        assert status == 200 and writes == [], f"GET {url} wrote: {writes}"
    status, writes = _writes(
        client, f"/success/funnel/stalled/{data['milestone_id']}/", HTTP_HX_REQUEST="true"
    )
    assert status == 200 and writes == []
    key = create_api_key(user=admin_user)[1]
    api_client = Client()
    _writes(api_client, "/api/v1/accounts", HTTP_AUTHORIZATION=f"Bearer {key}")  # the key's last-use stamp
    status, writes = _writes(
        api_client, "/api/v1/success/funnel?framework=reads-funnel", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert status == 200 and writes == [], writes
