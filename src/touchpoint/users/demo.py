"""Demo step "people": one user per role, a team of CSMs across four languages and a pooled owner.

Users go through `users.services.create_user`, like any other user, with the demo-only password.
CSMs carry the scripts they work in, so the accounts step can give Japanese customers to the
Japanese-speaking CSMs, and so on (mostly; a team is never perfectly tidy).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from touchpoint.demo.builders import (
    DEMO_EMAIL_DOMAIN,
    DEMO_PASSWORD,
    DemoContext,
    DemoLogin,
    register_data,
    step,
)
from touchpoint.users.models import User
from touchpoint.users.roles import Role
from touchpoint.users.services import create_user


@dataclass(frozen=True)
class DemoPerson:
    key: str
    local_part: str
    full_name: str
    role: Role
    locales: tuple[str, ...] = ()  # the customers' scripts a CSM covers


TEAM: tuple[DemoPerson, ...] = (
    DemoPerson("admin", "admin", "Alex Morgan", Role.ADMIN),
    DemoPerson("leader", "leader", "Hannah Brooks", Role.CS_LEADER),
    DemoPerson("csm:1", "misaki.sato", "佐藤 美咲", Role.CSM, ("ja_JP",)),
    DemoPerson("csm:2", "kenta.tanaka", "田中 健太", Role.CSM, ("ja_JP", "en_US")),
    DemoPerson("csm:3", "anna.smirnova", "Анна Смирнова", Role.CSM, ("ru_RU",)),
    DemoPerson("csm:4", "dmitry.volkov", "Дмитрий Волков", Role.CSM, ("ru_RU", "en_US")),
    DemoPerson("csm:5", "somchai.jaidee", "สมชาย ใจดี", Role.CSM, ("th_TH", "en_US")),
    DemoPerson("csm:6", "daniel.carter", "Daniel Carter", Role.CSM, ("en_US",)),
    # Low-touch accounts without a named CSM are owned by the team's shared queue.
    DemoPerson("pool", "success-team", "Digital success team", Role.CSM),
    DemoPerson("viewer", "viewer", "Jordan Lee", Role.VIEWER),
)


def csm_keys(ctx: DemoContext) -> list[str]:
    """The named CSMs (not the pooled owner), in a fixed order."""
    return [person.key for person in TEAM if person.key.startswith("csm:") and person.key in ctx.users]


def csms_for(locale: str) -> list[str]:
    return [person.key for person in TEAM if locale in person.locales]


@step("people")
def people(ctx: DemoContext) -> None:
    for person in TEAM:
        user, password = create_user(
            email=f"{person.local_part}@{DEMO_EMAIL_DOMAIN}",
            role=person.role,
            password=DEMO_PASSWORD,
            full_name=person.full_name,
            check_password_strength=False,
        )
        ctx.users[person.key] = user
        ctx.logins.append(
            DemoLogin(user=user, role=person.role.value, password=password, role_label=person.role.label)
        )
        ctx.counts["users.user"] += 1
    # The CS team reports to the leader, so the leader's home page covers the team's books.
    leader = ctx.users.get("leader")
    if leader is not None:
        team = [user for key, user in ctx.users.items() if key.startswith("csm:") or key == "pool"]
        User.objects.filter(pk__in=[user.pk for user in team]).update(reports_to=leader)


def _demo_users():
    return User.objects.filter(email__iendswith=f"@{DEMO_EMAIL_DOMAIN}")


register_data(
    "demo users",
    label=_("demo users"),
    count=lambda: _demo_users().count(),
    delete=lambda: _demo_users().delete(),
    order=40,
)
