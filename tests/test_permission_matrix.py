"""Every route and every API operation, asked by everyone: the permission matrix.

Two tests walk what the project serves (Django's URL resolver, recursively, and the OpenAPI at
/api/v1/openapi.json) and fail, naming the route, when something is not in PAGES or API below. So a
new route cannot ship without someone deciding who may use it.

To add a route: add an entry to PAGES (keyed by URL name) or API (keyed by "METHOD /path" as the
OpenAPI writes it) with the expected outcome for each person (a preset such as `book_writes`, or
your own dict), and for a list, `shows=` a text that only people who may read the account see.
Every entry is then called by each person, with "CSMs read every book" on and off.

People: anonymous, a viewer, a CSM outside the account's book (outsider), a CSM on the account's
team (teammate), the CSM who owns it (owner), a CS leader and an admin. Outcomes: OK (any answer
that is not 401/403/404, a redirect to sign in or a server error; a write with an incomplete form
passing the check answers 400/422, which is OK here), DENIED (403), LOGIN (a redirect to sign in,
or 401 in the API), NOT_FOUND (404), READ (OK when CSMs read every book, else DENIED), ANY (public
routes: anything but a server error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.factories import ContactFactory, SubscriptionFactory
from touchpoint.accounts.models import SavedView
from touchpoint.health.services import ensure_default_scorecard
from touchpoint.integrations.models import ImportJob
from touchpoint.revenue.models import MrrMovement
from touchpoint.tasks.services import create_task
from touchpoint.usage.models import Source
from touchpoint.users.models import SiteSettings
from touchpoint.users.services import create_api_key

OK, DENIED, LOGIN, NOT_FOUND, READ, ANY = "ok", "denied", "login", "not found", "read", "any"
PEOPLE = ("anonymous", "viewer", "outsider", "teammate", "owner", "leader", "admin")


def outcomes(**by_person: str) -> dict[str, str]:
    assert set(by_person) == set(PEOPLE), f"give an outcome for each of {PEOPLE}"
    return by_person


# Guarded by something else than our sign-in (a write key, a signature) or open on purpose: the
# matrix asks only that it never fails with a server error.
public = outcomes(**dict.fromkeys(PEOPLE, ANY))
signed_in = outcomes(**{**dict.fromkeys(PEOPLE, OK), "anonymous": LOGIN})
# Reading one account or what hangs off it: every role, CSMs outside the book only with the setting on.
account_reads = outcomes(**{**signed_in, "outsider": READ})
# Changing an account of a book: leaders, admins and the CSMs of that book.
book_writes = outcomes(
    anonymous=LOGIN, viewer=DENIED, outsider=DENIED, teammate=OK, owner=OK, leader=OK, admin=OK
)
# The account team: leaders, admins and the account's owner.
owner_manages = outcomes(**{**book_writes, "teammate": DENIED})
# What every CSM may do on no account in particular (add an account).
csm_creates = outcomes(**{**signed_in, "viewer": DENIED})
leaders_only = outcomes(
    anonymous=LOGIN, viewer=DENIED, outsider=DENIED, teammate=DENIED, owner=DENIED, leader=OK, admin=OK
)
admins_only = outcomes(**{**leaders_only, "leader": DENIED})
# The Django admin sends anyone who is not staff to its own sign-in page.
staff_only = outcomes(**{**dict.fromkeys(PEOPLE, LOGIN), "admin": OK})


def _admins_key(world: World) -> int:
    """A key of the matrix's admin: only its owner may revoke it (anyone else: not found)."""
    return create_api_key(user=world.people["admin"])[0].pk


@dataclass(frozen=True)
class Case:
    expect: dict[str, str]
    method: str = "get"
    url: Callable[[World], str] | None = None  # pages: built from the URL name and World.kwargs
    data: Callable[[World], dict] | dict = field(default_factory=dict)
    shows: Callable[[World], str] | None = None  # a list: this text appears exactly for readers
    why: str = ""  # for public routes: what guards them instead


@dataclass
class World:
    """The rows the routes are called on: one account of one book, and what hangs off it."""

    account: Any
    contact: Any
    subscription: Any
    scorecard: Any
    source: Any
    job: Any
    people: dict[str, Any]
    task: Any = None
    saved_view: Any = None
    movement: Any = None

    @property
    def opportunity_id(self) -> int:
        from touchpoint.revenue.models import RenewalOpportunity

        return RenewalOpportunity.objects.get(subscription=self.subscription).pk

    def kwargs(self, route: str) -> dict[str, Any]:
        found = {
            "account_id": self.account.pk,
            "scorecard_id": self.scorecard.pk,
            "source_id": self.source.pk,
            "job_id": self.job.pk,
            "task_id": self.task.pk if self.task is not None else None,
            "view_id": self.saved_view.pk if self.saved_view is not None else 0,
            "name": "mrr",
            "opportunity_id": self.opportunity_id,
            "user_id": self.people["viewer"].pk,
        }
        resolver_pattern = _patterns()[route]
        return {
            key: value
            for key, value in found.items()
            if f"<{key}>" in resolver_pattern or f":{key}>" in resolver_pattern
        }


def _playbook(name: str) -> Any:
    from tests.playbooks.conftest import ship_playbooks
    from touchpoint.playbooks.models import Playbook

    ship_playbooks()
    return Playbook.objects.get(name=name)


def _playbook_run(world: World) -> Any:
    from touchpoint.playbooks.models import PlaybookRun
    from touchpoint.playbooks.services import start_playbook

    playbook = _playbook("Onboarding")
    return PlaybookRun.objects.filter(account=world.account, playbook=playbook).first() or start_playbook(
        account=world.account, playbook=playbook, actor=world.people["owner"]
    )


def _rule_url(world: World) -> str:
    from touchpoint.playbooks.models import PlaybookRule

    _playbook("Onboarding")
    return reverse("playbook-rule", args=[PlaybookRule.objects.get(kind="new_account").pk])


MATRIX_JOURNEY = """\
key: matrix-journey
name: Matrix journey
entry: {trigger: manual}
messages:
  hello:
    en: {subject: Hello, body: Hello there}
steps:
  - {id: pause, type: wait, days: 3}
  - {id: mail, type: email, message: hello}
"""


def _journey_url(route: str, *args: str) -> Callable[[World], str]:
    def build(world: World) -> str:
        from touchpoint.journeys.services import save_version

        save_version(source=MATRIX_JOURNEY)
        return reverse(route, args=["matrix-journey", *args])

    return build


MATRIX_FRAMEWORK = """\
key: matrix-framework
name: Matrix framework
phases:
  - {key: start, name: Start}
  - {key: later, name: Later, enter_when: [{days_since_start: {at_least: 30}}]}
"""


def _matrix_framework() -> Any:
    from touchpoint.success.documents import apply_text
    from touchpoint.success.models import SuccessFramework

    return SuccessFramework.objects.filter(key="matrix-framework").first() or apply_text(
        MATRIX_FRAMEWORK, actor=None
    )


def _advocacy_advocate(world: World) -> Any:
    """The world's contact as an advocate."""
    from touchpoint.advocacy.models import Advocate
    from touchpoint.advocacy.services import add_advocate

    return Advocate.objects.filter(contact=world.contact).first() or add_advocate(
        contact=world.contact, actor=world.people["owner"]
    )


def _advocacy_ask(world: World) -> Any:
    """An open ask to the world's contact."""
    from touchpoint.advocacy.models import Ask
    from touchpoint.advocacy.services import ask

    return Ask.objects.filter(contact=world.contact).first() or ask(
        contact=world.contact, kind="review", actor=world.people["owner"]
    )


def _with_advocacy(world: World) -> dict:
    _advocacy_ask(world)
    _advocacy_advocate(world)
    return {}


def _advocacy_contact_url(world: World) -> str:
    return reverse("advocacy-contact", args=[world.contact.pk])


def _advocacy_ask_url(world: World) -> str:
    return reverse("advocacy-ask") + f"?contact={world.contact.pk}"


def _matrix_map(world: World) -> Any:
    """A readiness map the account's owner owns, with one touchpoint of one question (nobody answers for
    it by name, so shaping and answering both fall to the map's owner, leaders and admins)."""
    from touchpoint.readiness import services as readiness
    from touchpoint.readiness.models import ReadinessMap
    from touchpoint.readiness.structure import (
        FunctionShape,
        MapShape,
        QuestionShape,
        StageShape,
        TouchpointShape,
    )

    found = ReadinessMap.objects.filter(name="Matrix map").first()
    if found is not None:
        return found
    return readiness.create_map(
        name="Matrix map",
        owner=world.people["owner"],
        actor=world.people["admin"],
        start_from=MapShape(
            key="matrix",
            name="Matrix map",
            stages=(StageShape("buy", "Buy it"),),
            functions=(FunctionShape("legal", "Legal"),),
            touchpoints=(
                TouchpointShape(
                    key="contract",
                    stage="buy",
                    function="legal",
                    name="Contract",
                    checklist=(QuestionShape("Terms?"),),
                ),
            ),
        ),
    )


def _map_url(route: str) -> Callable[[World], str]:
    return lambda world: reverse(route, args=[_matrix_map(world).pk])


def _touchpoint_url(world: World) -> str:
    return reverse("readiness-touchpoint", args=[_matrix_map(world).touchpoints.get().pk])


def _framework_url(route: str) -> Callable[[World], str]:
    return lambda world: reverse(route, args=[_matrix_framework().pk])


def _simulation_url(world: World) -> str:
    from touchpoint.journeys.models import SimulationRun
    from touchpoint.journeys.services import save_version

    version = save_version(source=MATRIX_JOURNEY)
    run = SimulationRun.objects.create(journey=version.journey, version=version, days=90)
    return reverse("journey-simulation", args=["matrix-journey", run.pk])


def _account_name(world: World) -> str:
    return world.account.name


def _owners_alert(world: World) -> int:
    from touchpoint.home.models import Alert

    alert, _created = Alert.objects.get_or_create(
        recipient=world.people["owner"], account=world.account, kind="test", title="An alert of the owner"
    )
    return alert.pk


def _funnel_framework(world: World) -> str:
    """A framework the world's account walks, stalled before its first milestone; returns its key."""
    from touchpoint.success.models import AccountPlacement, MilestoneDefinition, SuccessFramework

    framework, _created = SuccessFramework.objects.get_or_create(
        key="matrix-funnel", defaults={"name": "Matrix funnel"}
    )
    MilestoneDefinition.objects.get_or_create(
        framework=framework, key="first", defaults={"name": "First", "stall_after_days": 5}
    )
    AccountPlacement.objects.update_or_create(
        account=world.account,
        defaults={"framework": framework, "started_on": timezone.localdate() - timedelta(days=60)},
    )
    return framework.key


def _funnel_url(world: World) -> str:
    from touchpoint.success.models import SuccessFramework

    return (
        reverse("success-funnel")
        + f"?framework={SuccessFramework.objects.get(key=_funnel_framework(world)).pk}"
    )


def _funnel_stalled_url(world: World) -> str:
    from touchpoint.success.models import MilestoneDefinition

    key = _funnel_framework(world)
    return reverse("success-funnel-stalled", args=[MilestoneDefinition.objects.get(framework__key=key).pk])


def _unsubscribe_url(world: World) -> str:
    from touchpoint.journeys.consent import unsubscribe_path

    return unsubscribe_path(world.contact)


def _matrix_survey() -> Any:
    from touchpoint.surveys.models import Survey
    from touchpoint.surveys.services import create_survey

    return Survey.objects.filter(key="matrix-nps").first() or create_survey(
        name="Matrix NPS", key="matrix-nps"
    )


def _survey_url(world: World) -> str:
    return reverse("survey", args=[_matrix_survey().key])


def _survey_answer_url(world: World) -> str:
    """The answer link of an invitation to the world's contact (sent through the survey's journey)."""
    from touchpoint.journeys.models import OutboxRow
    from touchpoint.surveys.sending import answer_path, send_survey

    survey = _matrix_survey()
    row = OutboxRow.objects.filter(payload__survey=survey.key).first()
    if row is None:
        if not world.contact.email:
            world.contact.email = "matrix@example.com"
            world.contact.save()
        send_survey(survey=survey, contacts=[world.contact])
        row = OutboxRow.objects.get(payload__survey=survey.key)
    return answer_path(row)


def _contact_name(world: World) -> str:
    return world.contact.name


def _with_success_plan(data: dict) -> Callable[[World], dict]:
    """`data`, once the account has a success plan (written outside the rolled-back calls)."""

    def build(world: World) -> dict:
        from touchpoint.plans.models import SuccessPlan
        from touchpoint.plans.services import create_plan

        if not SuccessPlan.objects.filter(account=world.account).exists():
            create_plan(account=world.account, actor=world.people["owner"])
        return data

    return build


def _matrix_request(world: World, title: str = "Matrix request") -> Any:
    """A feature request the world's account asked for (and a second one, to merge into)."""
    from touchpoint.feature_requests import services as feature_requests
    from touchpoint.feature_requests.models import FeatureRequest

    found = FeatureRequest.objects.filter(title=title).first()
    if found is not None:
        return found
    request = feature_requests.create_request(title=title, actor=world.people["admin"])
    feature_requests.ask(request=request, account=world.account, actor=world.people["owner"])
    return request


def _request_url(world: World) -> str:
    return reverse("feature-request", args=[_matrix_request(world).pk])


# --- Pages, htmx partials and CSV exports, by URL name -----------------------------------------

PAGES: dict[str, list[Case]] = {
    "home": [Case(public, why="redirects to My day, which asks for a sign-in")],
    # Home: every signed-in person has a day; what each section lists follows their read rights.
    "my-day": [Case(signed_in)],
    # Alerts are personal: the recipient marks theirs read; anyone else's is not found.
    "alert-read": [
        Case(
            outcomes(**{**dict.fromkeys(PEOPLE, NOT_FOUND), "anonymous": LOGIN, "owner": OK}),
            method="post",
            url=lambda w: reverse("alert-read", kwargs={"alert_id": _owners_alert(w)}),
        )
    ],
    "alerts-read-all": [Case(signed_in, method="post")],
    # A person's own settings (the daily digest, the language of emails).
    "my-settings": [Case(signed_in), Case(signed_in, method="post", data={"receive_daily_digest": "on"})],
    # People (users and roles): admins only; the one-time link page is public, its token is the key.
    "people": [Case(admins_only)],
    "people-invite": [Case(admins_only), Case(admins_only, method="post", data={"email": "x"})],
    "person": [Case(admins_only)],
    "person-role": [Case(admins_only, method="post", data={"role": "csm"})],
    "person-deactivate": [Case(admins_only, method="post")],
    "person-reactivate": [Case(admins_only, method="post")],
    "person-reset-password": [Case(admins_only, method="post")],
    "person-resend": [Case(admins_only, method="post")],
    "person-reset-two-factor": [Case(admins_only, method="post")],
    "sign-in-link": [
        Case(
            public,
            url=lambda w: reverse("sign-in-link", kwargs={"token": "x"}),
            why="a one-time link's token",
        ),
        Case(
            public,
            method="post",
            url=lambda w: reverse("sign-in-link", kwargs={"token": "x"}),
            why="a one-time link's token",
        ),
    ],
    # The audit log and its CSV: admins and CS leaders read it; nobody changes it.
    "audit": [Case(leaders_only), Case(leaders_only, url=lambda w: reverse("audit") + "?action=export")],
    "audit-csv": [Case(leaders_only)],
    # Personal data export and erasure (touchpoint.privacy): admins only; the forms are POSTs.
    "privacy": [Case(admins_only)],
    "privacy-export": [Case(admins_only, method="post", data={"export-email": "x"})],
    "privacy-erase": [Case(admins_only, method="post", data={"erase-email": "x", "erase-confirm": "y"})],
    # Access (issue 17): one's own API keys and second factor; admins unlock sign-ins.
    "my-api-key-create": [Case(signed_in, method="post", data={"name": "Matrix", "scopes": ["read"]})],
    "my-api-key-revoke": [
        Case(
            outcomes(**{**dict.fromkeys(PEOPLE, NOT_FOUND), "anonymous": LOGIN, "admin": OK}),
            method="post",
            url=lambda world: reverse("my-api-key-revoke", args=[_admins_key(world)]),
        )
    ],
    "two-factor-setup": [
        Case(signed_in),
        Case(signed_in, method="post", data={"action": "enable", "key": "forged", "code": "123456"}),
    ],
    "two-factor-verify": [Case(signed_in), Case(signed_in, method="post", data={"code": "000000"})],
    "locked-sign-ins": [Case(admins_only), Case(admins_only, method="post", data={"ip_address": "10.9.9.9"})],
    "login": [Case(public, why="the sign-in page")],
    "logout": [Case(public, method="post", why="signing out")],
    "set_language": [Case(public, method="post", data={"language": "ja"}, why="Django's language switch")],
    "healthz": [
        Case(public, why="for load balancers; says only whether the database answers and the worker beats")
    ],
    "metrics": [
        Case(
            outcomes(**dict.fromkeys(PEOPLE, NOT_FOUND)),
            why="Prometheus metrics: off unless TOUCHPOINT_METRICS=1 or a bearer token is set "
            "(tests/operations/test_metrics.py); no session gives access",
        )
    ],
    "stripe-webhook": [Case(public, method="post", why="Stripe signs each request (400 without)")],
    "journeys-unsubscribe": [
        Case(
            public,
            url=lambda w: _unsubscribe_url(w),
            why="a journey email's link: the signed token is the proof",
        ),
        Case(
            public,
            method="post",
            url=lambda w: _unsubscribe_url(w),
            why="unsubscribing (and RFC 8058 one-click)",
        ),
    ],
    **{
        name: [Case(public, method="post", why="Segment's tracking API: a source's write key (401 without)")]
        for name in (
            "segment-batch",
            "segment-import",
            "segment-track",
            "segment-identify",
            "segment-group",
            "segment-page",
            "segment-screen",
            "segment-alias",
        )
    },
    # Journeys: in-app messages for the product (a source's write key, as the tracking API), and the
    # open pixel and click redirect of journey emails (signed tokens; 404 while tracking is off).
    "journey-messages": [Case(public, why="in-app messages: a source's write key (401 without)")],
    **{
        name: [
            Case(
                public,
                method="post",
                url=lambda w, name=name: reverse(name, kwargs={"message_id": 1}),
                why="in-app message reports: a source's write key (401 without)",
            )
        ]
        for name in ("journey-message-seen", "journey-message-clicked")
    },
    "journey-open": [
        Case(public, url=lambda w: reverse("journey-open", kwargs={"token": "x"}), why="a signed token")
    ],
    "journey-click": [
        Case(public, url=lambda w: reverse("journey-click", kwargs={"token": "x"}), why="a signed token")
    ],
    "api:openapi-json": [Case(public, why="the API's description")],
    "api:openapi-view": [Case(public, why="the API's documentation page")],
    "api:api-root": [Case(public, why="the API's root: nothing but a 404 in the API's error shape")],
    # Accounts
    # A CSM's portfolio opens on their book; all the accounts they may read are one switch away.
    "portfolio": [Case(signed_in, url=lambda w: reverse("portfolio") + "?book=all", shows=_account_name)],
    "portfolio-export": [
        Case(signed_in, url=lambda w: reverse("portfolio-export") + "?book=all", shows=_account_name)
    ],
    "account-create": [Case(csm_creates), Case(csm_creates, method="post")],
    "contact-create": [Case(book_writes), Case(book_writes, method="post")],
    # Saved views: everyone signed in saves their own; the world's view is the leader's, shared.
    "saved-view-create": [Case(signed_in, method="post")],
    "saved-view-open": [Case(signed_in)],
    "saved-view-delete": [
        Case(
            outcomes(
                anonymous=LOGIN,
                viewer=DENIED,
                outsider=DENIED,
                teammate=DENIED,
                owner=DENIED,
                leader=OK,
                admin=DENIED,
            ),
            method="post",
        )
    ],
    "account-detail": [Case(account_reads)],
    "account-timeline": [Case(account_reads)],
    "account-edit": [Case(book_writes, method="post")],
    "account-log-engagement": [Case(book_writes, method="post")],
    "account-placement": [Case(book_writes, method="post")],
    # The "Success phase" panel: its readers read it; overriding the rules is a leader's call.
    "account-success-phase": [Case(account_reads), Case(leaders_only, method="post")],
    # Milestones follow their account: its readers read them, its book records outcomes.
    "account-milestones": [
        Case(account_reads),
        Case(book_writes, method="post", data=lambda w: _outcome_form(w)),
    ],
    "time-to-value": [Case(signed_in)],
    # The success funnel: every role reads it, counting and listing only the accounts they may read.
    "success-funnel": [Case(signed_in, url=_funnel_url)],
    "success-funnel-stalled": [Case(signed_in, url=_funnel_stalled_url, shows=_account_name)],
    # Tasks follow their account: its readers read them, its book changes them.
    "tasks": [
        Case(signed_in, url=lambda w: reverse("tasks") + "?owner=", shows=_account_name),
        Case(csm_creates, method="post"),
    ],
    "task-detail": [Case(account_reads), Case(book_writes, method="post")],
    "task-complete": [Case(book_writes, method="post")],
    "task-cancel": [Case(book_writes, method="post", data={"reason": "Matrix"})],
    # Success plans follow the account's book; the shared page is opened by its token alone.
    "account-success-plan": [
        Case(account_reads),
        Case(book_writes, method="post", data=_with_success_plan({"action": "close"})),
    ],
    "account-plan-panel": [Case(account_reads)],
    "shared-plan": [
        Case(public, url=lambda w: reverse("shared-plan", kwargs={"token": "x"}), why="a share link's token")
    ],
    "shared-plan-pdf": [
        Case(
            public,
            url=lambda w: reverse("shared-plan-pdf", kwargs={"token": "x"}),
            why="a share link's token",
        )
    ],
    "account-tasks": [
        Case(account_reads),
        Case(book_writes, method="post", data={"action": "add"}),
        Case(book_writes, method="post", data=lambda w: {"action": "complete", "task": w.task.pk}),
    ],
    # The test-only plugin app (tests/plugin_app/): its own role grant and the account read rule.
    "plugin-page": [Case(outcomes(**{**signed_in, "viewer": DENIED}))],
    "plugin-panel": [Case(account_reads)],
    "account-team": [
        Case(account_reads),
        Case(owner_manages, method="post", data={"action": "add"}),
        Case(
            owner_manages, method="post", data=lambda w: {"action": "remove", "user": w.people["teammate"].pk}
        ),
    ],
    # Panels of the account page
    "account-health": [Case(account_reads)],
    "account-usage": [Case(account_reads)],
    "account-subscriptions": [Case(account_reads), Case(book_writes, method="post")],
    # Playbooks: runs follow the account's book; the playbooks and rules are leaders' to change.
    "account-playbooks": [Case(account_reads), Case(book_writes, method="post")],
    "playbooks": [Case(signed_in)],
    "playbook-rule": [Case(leaders_only, method="post", url=_rule_url)],
    "playbook-export": [
        Case(signed_in, url=lambda w: reverse("playbook-export", args=[_playbook("Renewal").pk]))
    ],
    # Journeys: everyone reads them and their stats; leaders and admins write, simulate and launch;
    # delivery settings and webhook endpoints are read by leaders and changed by admins; an account's
    # enrollments follow its book.
    "journeys": [Case(signed_in)],
    "journey-new": [Case(leaders_only, method="post")],
    "journeys-delivery": [Case(leaders_only), Case(admins_only, method="post")],
    "journeys-webhooks": [Case(leaders_only), Case(admins_only, method="post")],
    "journey": [Case(signed_in, url=_journey_url("journey"))],
    "journey-steps": [Case(leaders_only, method="post", url=_journey_url("journey-steps"))],
    "journey-step": [
        Case(signed_in, url=_journey_url("journey-step", "pause")),
        Case(leaders_only, method="post", url=_journey_url("journey-step", "pause")),
    ],
    "journey-yaml": [
        Case(signed_in, url=_journey_url("journey-yaml")),
        Case(leaders_only, method="post", url=_journey_url("journey-yaml")),
    ],
    "journey-preview": [Case(signed_in, url=_journey_url("journey-preview", "hello", "en"))],
    "journey-simulate": [Case(leaders_only, method="post", url=_journey_url("journey-simulate"))],
    "journey-simulation": [Case(leaders_only, url=_simulation_url)],
    "journey-status": [Case(leaders_only, method="post", url=_journey_url("journey-status"))],
    "journey-versions": [Case(signed_in, url=_journey_url("journey-versions"))],
    "journey-stats": [Case(signed_in, url=_journey_url("journey-stats"))],
    "account-journeys": [Case(account_reads), Case(book_writes, method="post")],
    # Success frameworks: everyone reads them; leaders and admins write them.
    "success-frameworks": [Case(signed_in)],
    "success-framework": [Case(signed_in, url=_framework_url("success-framework"))],
    "success-framework-new": [
        Case(leaders_only),
        Case(leaders_only, method="post", data={"text": MATRIX_FRAMEWORK, "action": "check"}),
    ],
    "success-framework-edit": [
        Case(leaders_only, url=_framework_url("success-framework-edit")),
        Case(
            leaders_only,
            method="post",
            url=_framework_url("success-framework-edit"),
            data={"text": MATRIX_FRAMEWORK.replace("Later", "Much later"), "action": "save"},
        ),
    ],
    # Readiness maps: everyone signed in reads them; CSMs, leaders and admins start one; the map's owner,
    # leaders and admins shape it and (no one named on the touchpoint) answer it; CSMs comment.
    "advocacy": [Case(signed_in, data=_with_advocacy, shows=_account_name)],
    "advocacy-pool": [Case(signed_in)],
    "advocacy-asks": [Case(signed_in, data=_with_advocacy, shows=_account_name)],
    "advocacy-settings": [
        Case(signed_in),
        Case(admins_only, method="post", data={"max_asks_per_quarter": 3, "pool_quiet_days": 60}),
    ],
    "advocacy-ask": [
        Case(book_writes, url=_advocacy_ask_url),
        Case(
            book_writes,
            method="post",
            url=_advocacy_ask_url,
            data=lambda w: {"contact": w.contact.pk, "kind": "review"},
        ),
    ],
    "advocacy-contact": [
        Case(account_reads, url=_advocacy_contact_url),
        Case(book_writes, method="post", url=_advocacy_contact_url, data={"action": "candidate"}),
    ],
    "account-advocacy": [Case(account_reads, data=_with_advocacy)],
    "readiness-maps": [Case(signed_in)],
    "readiness-map-new": [Case(csm_creates), Case(csm_creates, method="post", data={"name": ""})],
    "readiness-uptime": [
        Case(signed_in),
        Case(leaders_only, method="post", data={"product": "", "month": "", "uptime_percent": ""}),
    ],
    "readiness-map": [
        Case(signed_in, url=_map_url("readiness-map")),
        Case(owner_manages, method="post", url=_map_url("readiness-map"), data={"action": "add-stage"}),
    ],
    "readiness-map-csv": [Case(signed_in, url=_map_url("readiness-map-csv"))],
    "readiness-map-pdf": [Case(signed_in, url=_map_url("readiness-map-pdf"))],
    "readiness-map-yaml": [Case(signed_in, url=_map_url("readiness-map-yaml"))],
    "readiness-touchpoint": [
        Case(signed_in, url=_touchpoint_url),
        Case(owner_manages, method="post", url=_touchpoint_url, data={"action": "status"}),
        Case(csm_creates, method="post", url=_touchpoint_url, data={"action": "comment"}),
    ],
    # Feature requests: everyone reads them; CSMs, leaders and admins write them down, an account's asks
    # follow its book; leaders and admins change their status and merge them.
    "feature-requests": [Case(signed_in), Case(csm_creates, method="post", data={"new-title": ""})],
    "feature-requests-csv": [Case(signed_in)],
    "feature-request-suggest": [Case(signed_in)],
    "feature-request": [
        Case(signed_in, url=_request_url),
        Case(leaders_only, method="post", url=_request_url, data={"action": "status"}),
    ],
    "account-feature-requests": [Case(account_reads), Case(book_writes, method="post")],
    # Surveys: everyone reads them; leaders and admins make and change them; CSMs send them too (to
    # their book); admins change the throttling; an account's answers follow its book.
    "surveys": [Case(signed_in), Case(leaders_only, method="post", data={"name": ""})],
    "survey": [
        Case(signed_in, url=_survey_url),
        Case(leaders_only, method="post", url=_survey_url, data={"action": "edit", "name": ""}),
        Case(csm_creates, method="post", url=_survey_url, data={"action": "send", "channel": "nope"}),
    ],
    "surveys-settings": [Case(leaders_only), Case(admins_only, method="post", data={"resurvey_days": ""})],
    "account-surveys": [Case(account_reads)],
    "survey-answer": [
        Case(public, url=_survey_answer_url, why="a survey email's link: the signed token is the proof"),
        Case(
            public,
            method="post",
            url=_survey_answer_url,
            data={"score": "9"},
            why="answering from the survey link (the signed token); a GET never answers",
        ),
    ],
    # Health
    "health-distribution": [Case(signed_in)],
    "health-scorecards": [Case(signed_in), Case(leaders_only, method="post")],
    "health-scorecards-export": [Case(signed_in)],
    "health-scorecard-new": [Case(signed_in), Case(leaders_only, method="post")],
    "health-scorecard": [Case(signed_in), Case(leaders_only, method="post")],
    "health-scorecard-rescore": [Case(leaders_only, method="post")],
    "health-backtest": [Case(signed_in)],
    "health-backtest-accept": [Case(leaders_only, method="post")],
    "health-learned-apply": [Case(leaders_only, method="post")],
    "health-learned-withdraw": [Case(leaders_only, method="post")],
    # Revenue
    "revenue-dashboard": [Case(signed_in)],
    "support": [Case(signed_in)],
    "support-settings": [Case(signed_in), Case(leaders_only, method="post", data={"action": "calendar"})],
    "support-ticket": [
        Case(account_reads, url=lambda w: reverse("support-ticket", args=[_matrix_ticket(w).pk]))
    ],
    "account-support": [Case(account_reads)],
    "support-webhook": [
        Case(
            public,
            method="post",
            url=lambda w: reverse("support-webhook", args=["matrix"]),
            why="signed (401 without)",
        )
    ],
    "revenue-export": [Case(signed_in)],
    "renewals": [Case(signed_in, url=lambda w: reverse("renewals") + "?owner=", shows=_account_name)],
    "renewals-export": [
        Case(signed_in, url=lambda w: reverse("renewals-export") + "?owner=", shows=_account_name)
    ],
    "churn-reasons": [Case(admins_only), Case(admins_only, method="post")],
    "renewal-opportunity": [Case(account_reads), Case(book_writes, method="post", data={"action": "update"})],
    "account-renewal": [Case(account_reads)],
    # Usage
    "sources": [Case(admins_only), Case(admins_only, method="post")],
    "source-detail": [Case(admins_only)],
    "key-features": [Case(signed_in), Case(admins_only, method="post", data={"event": "Signed in"})],
    # Integrations: imports are leader/admin work (they change many accounts at once, across books).
    "integrations-stripe": [Case(admins_only)],
    "imports": [Case(leaders_only), Case(leaders_only, method="post")],
    "import-job": [Case(leaders_only)],
    "import-progress": [Case(leaders_only)],
    # The Django admin: one entry for the whole namespace, checked on two of its pages.
    "admin:*": [
        Case(staff_only, url=lambda w: reverse("admin:index")),
        Case(staff_only, url=lambda w: reverse("admin:users_sitesettings_changelist")),
    ],
}


# --- API operations, by "METHOD /path" as in the OpenAPI ------------------------------------------


def _outcome_milestone(world: World) -> Any:
    """An outcome milestone "matrix-outcome" of the default framework, which the account walks."""
    from touchpoint.success.models import MilestoneDefinition, SuccessFramework

    framework = SuccessFramework.objects.get_or_create(name="Standard", defaults={"is_default": True})[0]
    return MilestoneDefinition.objects.get_or_create(
        framework=framework, key="matrix-outcome", defaults={"name": "Matrix outcome", "kind": "outcome"}
    )[0]


def _outcome_body(world: World) -> dict:
    _outcome_milestone(world)
    return {"reached_on": "2026-01-01", "evidence": "Matrix", "confirmed_by_name": "Ann"}


def _outcome_form(world: World) -> dict:
    return {
        "action": "record",
        "outcome-milestone": _outcome_milestone(world).pk,
        "outcome-reached_on": "2026-01-01",
        "outcome-evidence": "Matrix",
        "outcome-confirmed_by_name": "Ann",
    }


def _outcome_reached(world: World) -> dict:
    from touchpoint.success.models import MilestoneReached

    MilestoneReached.objects.get_or_create(
        account=world.account,
        milestone=_outcome_milestone(world),
        defaults={"reached_on": "2026-01-01", "source": "manual", "evidence": "Matrix"},
    )
    return {}


def _subscription_body(world: World) -> dict:
    return {"account": world.account.pk, "product": "Extra seats", "mrr": "10.00", "started_on": "2026-01-01"}


def _matrix_ticket(world: World) -> Any:
    """A ticket of the world's account (made once, through the service)."""
    from touchpoint.support.services import TicketData, upsert_ticket

    ticket, _outcome = upsert_ticket(
        data=TicketData(
            subject="Matrix ticket",
            opened_at=timezone.now() - timedelta(hours=1),
            updated_at=timezone.now() - timedelta(hours=1),
            source="matrix",
            external_id="m1",
        ),
        account=world.account,
        actor=None,
    )
    return ticket


def _ticket_body(world: World) -> dict:
    return {"account": world.account.pk, "subject": "Matrix ticket", "opened_at": "2026-01-01T09:00:00Z"}


def _task_body(world: World) -> dict:
    return {"account": world.account.pk, "title": "Matrix task", "due_on": "2026-01-01"}


# A short window: the back-test and the fit run on it for every person.
_FIT_WINDOW = {"start": "2026-01-01", "end": "2026-01-15", "every": 7, "horizon": 30}


def _matrix_key_feature() -> Any:
    from touchpoint.usage.models import KeyFeature

    return KeyFeature.objects.get_or_create(event="Matrix key feature")[0]


def _api(path: str) -> Callable[[World], str]:
    def build(world: World) -> str:
        return "/api/v1" + path.format(
            account_id=world.account.pk,
            contact_id=world.contact.pk,
            subscription_id=world.subscription.pk,
            movement_id=world.movement.pk,
            user_id=world.people["teammate"].pk,
            task_id=world.task.pk,
            **({"run_id": _playbook_run(world).pk} if "{run_id}" in path else {}),
            opportunity_id=world.opportunity_id if "{opportunity_id}" in path else 0,
            key=_matrix_survey().key if path.startswith("/surveys/") else "matrix-journey",
            framework=_matrix_framework().key if "{framework}" in path else "",
            milestone_key="matrix-outcome",
            map_id=_matrix_map(world).pk if "{map_id}" in path else 0,
            advocate_id=_advocacy_advocate(world).pk if "{advocate_id}" in path else 0,
            ask_id=_advocacy_ask(world).pk if "{ask_id}" in path else 0,
            ticket_id=_matrix_ticket(world).pk if "{ticket_id}" in path else 0,
            request_id=_matrix_request(world).pk if "{request_id}" in path else 0,
            feature_id=_matrix_key_feature().pk if "{feature_id}" in path else 0,
            enrollment_id=_journey_enrollment(world).pk
            if ("{key}" in path and not path.startswith("/surveys/")) or "{enrollment_id}" in path
            else 0,
        )

    return build


def _journey_enrollment(world: World) -> Any:
    """A live journey "matrix-journey" and an active enrollment of the account in it."""
    from tests.journeys.entries_support import definition, live_journey
    from touchpoint.journeys.models import Enrollment, Journey

    journey = Journey.objects.filter(key="matrix-journey").first()
    version = (
        journey.live_version
        if journey is not None
        else live_journey(
            definition("matrix-journey", {"trigger": "manual"}, reentry={"policy": "after_exit"})
        )
    )
    enrollment, _created = Enrollment.objects.get_or_create(
        version=version,
        subject_key=f"account:{world.account.pk}",
        entry_key="zyxwv-matrix-entry",
        defaults={"journey": version.journey, "account": world.account, "step_id": "w"},
    )
    return enrollment


API_SIGNED_IN = outcomes(**{**signed_in, "anonymous": LOGIN})
API: dict[str, list[Case]] = {
    "GET /api/v1/accounts": [Case(API_SIGNED_IN, shows=_account_name)],
    "POST /api/v1/accounts": [Case(csm_creates, data={"name": "Brand new"})],
    "GET /api/v1/accounts/{account_id}": [Case(account_reads)],
    "PATCH /api/v1/accounts/{account_id}": [Case(book_writes, data={"domain": "patched.example"})],
    "DELETE /api/v1/accounts/{account_id}": [Case(leaders_only)],
    "GET /api/v1/accounts/{account_id}/contacts": [Case(account_reads)],
    "POST /api/v1/accounts/{account_id}/contacts": [Case(book_writes, data={"name": "Pat New"})],
    "GET /api/v1/contacts": [Case(API_SIGNED_IN, shows=_contact_name)],
    "GET /api/v1/contacts/{contact_id}": [Case(account_reads)],
    "PATCH /api/v1/contacts/{contact_id}": [Case(book_writes, data={"title": "CTO"})],
    "DELETE /api/v1/contacts/{contact_id}": [Case(leaders_only)],
    "GET /api/v1/accounts/{account_id}/timeline": [Case(account_reads)],
    "POST /api/v1/accounts/{account_id}/notes": [Case(book_writes, data={"body": "A note"})],
    "POST /api/v1/accounts/{account_id}/engagements": [
        Case(book_writes, data={"kind": "call", "subject": "Hi"})
    ],
    "GET /api/v1/accounts/{account_id}/team": [Case(account_reads)],
    "POST /api/v1/accounts/{account_id}/team": [
        Case(owner_manages, data=lambda w: {"user": w.people["viewer"].pk, "role": "other"})
    ],
    "DELETE /api/v1/accounts/{account_id}/team/{user_id}": [Case(owner_manages)],
    "GET /api/v1/accounts/{account_id}/usage": [Case(account_reads)],
    "GET /api/v1/accounts/{account_id}/placement": [Case(account_reads)],
    "PUT /api/v1/accounts/{account_id}/placement": [
        Case(book_writes, data={"framework": None, "phase": None})
    ],
    "GET /api/v1/accounts/{account_id}/success-plan": [Case(account_reads, data=_with_success_plan({}))],
    "PUT /api/v1/accounts/{account_id}/success-plan": [Case(book_writes, data={"title": "Matrix plan"})],
    "GET /api/v1/plugin/ping": [Case(API_SIGNED_IN)],
    "GET /api/v1/audit": [Case(leaders_only)],
    "GET /api/v1/success/frameworks": [Case(API_SIGNED_IN)],
    "GET /api/v1/advocacy/advocates": [Case(API_SIGNED_IN, data=_with_advocacy, shows=_account_name)],
    "POST /api/v1/advocacy/advocates": [Case(book_writes, data=lambda w: {"contact": w.contact.pk})],
    "GET /api/v1/advocacy/advocates/{advocate_id}": [Case(account_reads)],
    "PATCH /api/v1/advocacy/advocates/{advocate_id}": [Case(book_writes, data={"notes": "Matrix"})],
    "GET /api/v1/advocacy/advocates/{advocate_id}/activities": [Case(account_reads)],
    "POST /api/v1/advocacy/advocates/{advocate_id}/activities": [Case(book_writes, data={"kind": "review"})],
    "POST /api/v1/advocacy/advocates/{advocate_id}/rewards": [
        Case(book_writes, data={"kind": "gift", "value": "5.00"})
    ],
    "GET /api/v1/advocacy/rewards": [Case(API_SIGNED_IN)],
    "GET /api/v1/advocacy/asks": [Case(API_SIGNED_IN, data=_with_advocacy, shows=_account_name)],
    "POST /api/v1/advocacy/asks": [
        Case(book_writes, data=lambda w: {"contact": w.contact.pk, "kind": "review"})
    ],
    "GET /api/v1/advocacy/asks/{ask_id}": [Case(account_reads)],
    "POST /api/v1/advocacy/asks/{ask_id}/status": [Case(book_writes, data={"status": "accepted"})],
    "GET /api/v1/advocacy/candidates": [Case(API_SIGNED_IN)],
    "POST /api/v1/advocacy/candidates": [Case(book_writes, data=lambda w: {"contact": w.contact.pk})],
    "DELETE /api/v1/advocacy/candidates/{contact_id}": [Case(book_writes)],
    "GET /api/v1/advocacy/pool": [Case(API_SIGNED_IN)],
    "GET /api/v1/advocacy/settings": [Case(API_SIGNED_IN)],
    "PATCH /api/v1/advocacy/settings": [Case(admins_only, data={"pool_quiet_days": 60})],
    "GET /api/v1/readiness/maps": [Case(API_SIGNED_IN)],
    "GET /api/v1/readiness/maps/{map_id}": [Case(API_SIGNED_IN)],
    # Surveys: everyone reads them; leaders and admins create them and record answers; a send reaches
    # people of accounts the sender may change.
    "GET /api/v1/surveys": [Case(API_SIGNED_IN)],
    "POST /api/v1/surveys": [Case(leaders_only, data={"name": "Matrix survey"})],
    "GET /api/v1/surveys/{key}": [Case(API_SIGNED_IN)],
    "GET /api/v1/surveys/{key}/scores": [Case(API_SIGNED_IN)],
    "GET /api/v1/surveys/{key}/answers": [Case(API_SIGNED_IN)],
    "POST /api/v1/surveys/{key}/answers": [
        Case(leaders_only, data=lambda w: {"account_id": w.account.pk, "score": 9})
    ],
    "POST /api/v1/surveys/{key}/send": [Case(book_writes, data=lambda w: {"contact_ids": [w.contact.pk]})],
    "POST /api/v1/readiness/uptime": [
        Case(leaders_only, data={"product": "Matrix", "month": "2026-01-01", "uptime_percent": "99.9"})
    ],
    "GET /api/v1/feature-requests": [Case(API_SIGNED_IN)],
    "POST /api/v1/feature-requests": [Case(csm_creates, data={"title": "Matrix new request"})],
    "GET /api/v1/feature-requests/{request_id}": [Case(API_SIGNED_IN)],
    "PATCH /api/v1/feature-requests/{request_id}": [Case(leaders_only, data={"title": "Patched"})],
    "POST /api/v1/feature-requests/{request_id}/status": [
        Case(leaders_only, data={"status": "planned", "note": "Matrix"})
    ],
    "POST /api/v1/feature-requests/{request_id}/asks": [
        Case(book_writes, data=lambda w: {"account_id": w.account.pk})
    ],
    "POST /api/v1/feature-requests/{request_id}/merge": [
        Case(leaders_only, data=lambda w: {"into": _matrix_request(w, "Matrix survivor").pk})
    ],
    "GET /api/v1/feature-requests/{request_id}/duplicates": [Case(API_SIGNED_IN)],
    "GET /api/v1/success/frameworks/{framework}": [Case(API_SIGNED_IN)],
    "PUT /api/v1/success/frameworks/{framework}": [Case(leaders_only, data={"yaml": MATRIX_FRAMEWORK})],
    "GET /api/v1/accounts/{account_id}/milestones": [Case(account_reads)],
    "POST /api/v1/accounts/{account_id}/milestones/{milestone_key}": [Case(book_writes, data=_outcome_body)],
    "DELETE /api/v1/accounts/{account_id}/milestones/{milestone_key}": [
        Case(book_writes, data=_outcome_reached)
    ],
    "GET /api/v1/success/time-to-value": [Case(API_SIGNED_IN)],
    "GET /api/v1/success/funnel": [Case(API_SIGNED_IN, data=lambda w: {"framework": _funnel_framework(w)})],
    "GET /api/v1/accounts/{account_id}/health": [Case(account_reads)],
    "GET /api/v1/health/backtest": [Case(API_SIGNED_IN, data=_FIT_WINDOW)],
    "POST /api/v1/health/fit": [
        Case(API_SIGNED_IN, data=_FIT_WINDOW),
        Case(leaders_only, data={**_FIT_WINDOW, "apply": True, "override": True}),
    ],
    # Key features: everyone reads the list (it explains breadth of adoption), admins change it.
    "GET /api/v1/key-features": [Case(API_SIGNED_IN)],
    "POST /api/v1/key-features": [Case(admins_only, data={"event": "Matrix feature"})],
    "PUT /api/v1/key-features": [Case(admins_only, data={"key_features": [{"event": "Matrix feature"}]})],
    "DELETE /api/v1/key-features/{feature_id}": [Case(admins_only)],
    "GET /api/v1/subscriptions": [Case(API_SIGNED_IN, shows=_account_name)],
    "POST /api/v1/subscriptions": [Case(book_writes, data=_subscription_body)],
    "GET /api/v1/subscriptions/{subscription_id}": [Case(account_reads)],
    "PATCH /api/v1/subscriptions/{subscription_id}": [Case(book_writes, data={"plan": "Gold"})],
    "POST /api/v1/subscriptions/{subscription_id}/cancel": [Case(book_writes, data={})],
    "GET /api/v1/subscriptions/{subscription_id}/movements": [Case(account_reads)],
    "POST /api/v1/mrr-movements/{movement_id}/void": [Case(book_writes, data={"reason": "Entered twice"})],
    "GET /api/v1/metrics/revenue": [Case(API_SIGNED_IN)],
    # Support: tickets follow their account's book; policies and the numbers are everyone's to read.
    "GET /api/v1/support/tickets": [Case(API_SIGNED_IN)],
    "POST /api/v1/support/tickets": [Case(book_writes, data=_ticket_body)],
    "GET /api/v1/support/tickets/{ticket_id}": [Case(account_reads)],
    "PATCH /api/v1/support/tickets/{ticket_id}": [Case(book_writes, data={"assignee": "Matrix"})],
    "GET /api/v1/support/breaches": [Case(API_SIGNED_IN)],
    "GET /api/v1/support/metrics": [Case(API_SIGNED_IN)],
    "GET /api/v1/support/policies": [Case(API_SIGNED_IN)],
    "GET /api/v1/playbooks": [Case(API_SIGNED_IN)],
    "GET /api/v1/accounts/{account_id}/playbook-runs": [Case(account_reads)],
    "POST /api/v1/accounts/{account_id}/playbook-runs": [
        Case(book_writes, data=lambda w: {"playbook": _playbook("Executive business review").pk})
    ],
    "POST /api/v1/accounts/{account_id}/playbook-runs/{run_id}/stop": [
        Case(book_writes, data={"reason": "x"})
    ],
    "GET /api/v1/renewals": [Case(API_SIGNED_IN, shows=_account_name)],
    "GET /api/v1/renewals/forecast": [Case(API_SIGNED_IN)],
    "GET /api/v1/tasks": [Case(API_SIGNED_IN, shows=_account_name)],
    "POST /api/v1/tasks": [Case(book_writes, data=_task_body)],
    "GET /api/v1/tasks/{task_id}": [Case(account_reads)],
    "PATCH /api/v1/tasks/{task_id}": [Case(book_writes, data={"title": "Patched"})],
    "POST /api/v1/tasks/{task_id}/complete": [Case(book_writes)],
    "POST /api/v1/tasks/{task_id}/cancel": [Case(book_writes, data={"reason": "Matrix"})],
    # Journeys: everyone reads them; enrollments follow the account's book.
    "GET /api/v1/journeys": [Case(API_SIGNED_IN)],
    "GET /api/v1/journeys/{key}": [Case(API_SIGNED_IN)],
    "POST /api/v1/journeys/{key}/enrollments": [
        Case(book_writes, data=lambda w: {"account_id": w.account.pk, "entry_key": "matrix"})
    ],
    "GET /api/v1/journeys/{key}/enrollments": [Case(API_SIGNED_IN, shows=lambda w: "zyxwv-matrix-entry")],
    "POST /api/v1/enrollments/{enrollment_id}/exit": [Case(book_writes, data={"reason": "Matrix"})],
    "GET /api/v1/renewal-opportunities": [Case(API_SIGNED_IN, shows=_account_name)],
    "GET /api/v1/renewal-opportunities/{opportunity_id}": [Case(account_reads)],
    "PATCH /api/v1/renewal-opportunities/{opportunity_id}": [Case(book_writes, data={"stage": "commit"})],
    "POST /api/v1/renewal-opportunities/{opportunity_id}/outcome": [
        Case(book_writes, data={"outcome": "renewed"})
    ],
}


# --- Walking what the project serves --------------------------------------------------------------


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            name_space = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), name_space)
        elif isinstance(entry, URLPattern):
            name = entry.name or f"<unnamed {prefix}{entry.pattern}>"
            yield (f"{namespace}:{name}" if namespace else name), prefix + str(entry.pattern)


def _patterns() -> dict[str, str]:
    return dict(_walk(get_resolver().url_patterns))


def _openapi_operations(client: Client) -> set[str]:
    spec = client.get("/api/v1/openapi.json").json()
    return {f"{method.upper()} {path}" for path, methods in spec["paths"].items() for method in methods}


def _as_openapi_path(pattern: str) -> str:
    import re

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def test_every_url_pattern_is_in_the_matrix(client):
    operation_paths = {key.split(" ", 1)[1] for key in _openapi_operations(client)}
    uncovered = []
    for name, pattern in _patterns().items():
        if name.startswith("admin:"):
            continue  # the whole namespace is one entry, "admin:*"
        if name.startswith("api:") and name not in PAGES and _as_openapi_path(pattern) in operation_paths:
            continue  # an API operation: the API matrix covers it
        if name not in PAGES:
            uncovered.append(f"{name} ({pattern})")
    assert not uncovered, f"Routes missing from PAGES in {__file__}: {uncovered}"
    stale = set(PAGES) - set(_patterns()) - {"admin:*"}
    assert not stale, f"PAGES names routes that no longer exist: {sorted(stale)}"


def test_every_api_operation_is_in_the_matrix(client):
    served = _openapi_operations(client)
    assert not served - set(API), (
        f"API operations missing from API in {__file__}: {sorted(served - set(API))}"
    )
    assert not set(API) - served, f"API names operations that no longer exist: {sorted(set(API) - served)}"


# --- Calling them -----------------------------------------------------------------------------------


@pytest.fixture
def world(book) -> World:
    account = book.account
    account.name = "Zyxwv Matrix Account"
    account.save()
    contact = ContactFactory(account=account, name="Qwerty Matrixperson")
    today = timezone.localdate()
    subscription = SubscriptionFactory(account=account, renewal_date=today + timedelta(days=20))
    movement = MrrMovement.objects.create(
        subscription=subscription,
        account=account,
        kind="new",
        occurred_on=subscription.started_on,
        mrr_before=0,
        mrr_after=subscription.mrr,
        delta=subscription.mrr,
        currency="USD",
        subscription_before={"status": "canceled", "canceled_on": subscription.started_on.isoformat()},
    )
    job = ImportJob.objects.create(
        kind="accounts",
        original_name="a.csv",
        stored_name="matrix-a.csv",
        encoding="utf-8",
        delimiter=",",
        header=["name"],
        created_by=book.leader,
    )
    people = {
        "anonymous": None,
        "viewer": book.viewer,
        "outsider": book.outsider,
        "teammate": book.teammate,
        "owner": book.owner,
        "leader": book.leader,
        "admin": book.admin,
    }
    return World(
        account=account,
        contact=contact,
        subscription=subscription,
        scorecard=ensure_default_scorecard(),
        source=Source.objects.create(name="Matrix web app"),
        job=job,
        people=people,
        task=create_task(account=account, title="Matrix task", due_on=today, actor=book.owner),
        saved_view=SavedView.objects.create(
            user=book.leader, name="Matrix view", query="book=all", shared=True
        ),
        movement=movement,
    )


def _outcome(response) -> str:
    status = response.status_code
    assert status < 500, f"server error {status}"
    if status in (301, 302) and "login" in response.get("Location", ""):
        return LOGIN
    return {401: LOGIN, 403: DENIED, 404: NOT_FOUND}.get(status, OK)


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _call(world: World, case: Case, person: str, url: str, api: bool) -> tuple[str, str]:
    user = world.people[person]
    client = Client()
    headers = {}
    if user is not None:
        if api:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {create_api_key(user=user)[1]}"
        else:
            client.force_login(user)
    data = case.data(world) if callable(case.data) else case.data
    # Each call in a savepoint rolled back: a write one person makes must not change what the next sees.
    with transaction.atomic():
        if api and case.method != "get":
            response = getattr(client, case.method)(url, data, content_type="application/json", **headers)
        else:
            response = getattr(client, case.method)(url, data, **headers)
        result = _outcome(response), _body(response) if case.shows else ""
        transaction.set_rollback(True)
    return result


def _check(world: World, case: Case, url: str, read_all: bool, api: bool) -> None:
    SiteSettings(csms_read_all_books=read_all).save()
    readers = {"viewer", "teammate", "owner", "leader", "admin"} | ({"outsider"} if read_all else set())
    got, wanted = {}, {}
    for person in PEOPLE:
        expected = case.expect[person]
        if expected == READ:
            expected = OK if read_all else DENIED
        outcome, body = _call(world, case, person, url, api)
        if expected == ANY:
            outcome = ANY
        got[person], wanted[person] = outcome, expected
        if case.shows and outcome == OK:
            shown = case.shows(world) in body
            assert shown == (person in readers), (
                f"{case.method.upper()} {url} as {person}: the account's data "
                f"{'is missing' if not shown else 'leaks'} (CSMs read every book: {read_all})"
            )
    assert got == wanted, f"{case.method.upper()} {url} (CSMs read every book: {read_all})"


def _settings_that_matter(case: Case) -> list[bool]:
    # Whether CSMs read every book changes only reads of an account and lists; the rest once.
    return [True, False] if READ in case.expect.values() or case.shows else [True]


PAGE_CASES = [
    pytest.param(
        name, index, read_all, id=f"{name}-{case.method}-{index}-{'all' if read_all else 'own'}-books"
    )
    for name, cases in PAGES.items()
    for index, case in enumerate(cases)
    for read_all in _settings_that_matter(case)
]
API_CASES = [
    pytest.param(key, index, read_all, id=f"{key}-{index}-{'all' if read_all else 'own'}-books")
    for key, cases in API.items()
    for index, case in enumerate(cases)
    for read_all in _settings_that_matter(case)
]


@pytest.mark.parametrize(("name", "index", "read_all"), PAGE_CASES)
def test_page_permissions(world, name, index, read_all):
    case = PAGES[name][index]
    url = case.url(world) if case.url else reverse(name, kwargs=world.kwargs(name))
    _check(world, case, url, read_all, api=False)


@pytest.mark.parametrize(("key", "index", "read_all"), API_CASES)
def test_api_permissions(world, key, index, read_all):
    case = API[key][index]
    method, path = key.split(" ", 1)
    case = Case(**{**case.__dict__, "method": method.lower()})
    _check(world, case, _api(path.removeprefix("/api/v1"))(world), read_all, api=True)
