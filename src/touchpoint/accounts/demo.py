"""Demo step "accounts": segments, customer companies (some with subsidiaries) and their people.

The customer base leans the way a B2B company's does: a few enterprise groups served high touch,
a mid-market served by a mix, and many small customers served low touch, most of them by the
shared queue or no one. Names are in English, Japanese, Russian and Thai, and the CSMs who speak a
customer's language mostly own it. (Their lifecycle phases are the success app's step.)

Rows are bulk-inserted; what `create_account` and `create_contact` would have added beside them is
added too: an "account_created" and a "contact_added" timeline entry each, and the role rows.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts import demo_names as names
from touchpoint.accounts.models import (
    Account,
    AccountTeamMember,
    Contact,
    ContactRole,
    ContactRoleAssignment,
    EngagementModel,
    Segment,
    TeamRole,
    TimelineEntry,
)
from touchpoint.demo.builders import (
    LOCALES,
    TIMELINE_COLUMNS,
    DemoAccount,
    DemoContact,
    DemoContext,
    register_data,
    step,
    timeline_row,
)
from touchpoint.users.demo import csm_keys, csms_for
from touchpoint.users.models import User

ENTERPRISE, MID_MARKET, SMB = "Enterprise", "Mid-market", "SMB"
SEGMENTS = ((ENTERPRISE, 1), (MID_MARKET, 2), (SMB, 3))
SEGMENT_SHARES = {ENTERPRISE: 0.15, MID_MARKET: 0.35, SMB: 0.5}
ENGAGEMENT_BY_SEGMENT: dict[str, dict[str, float]] = {
    ENTERPRISE: {EngagementModel.HIGH_TOUCH: 0.85, EngagementModel.HYBRID: 0.15},
    MID_MARKET: {
        EngagementModel.HYBRID: 0.7,
        EngagementModel.HIGH_TOUCH: 0.15,
        EngagementModel.LOW_TOUCH: 0.15,
    },
    SMB: {EngagementModel.LOW_TOUCH: 0.8, EngagementModel.HYBRID: 0.2},
}
LOCALE_SHARES = {"en_US": 0.52, "ja_JP": 0.16, "ru_RU": 0.16, "th_TH": 0.16}
CONTACTS_BY_MODEL: dict[str, tuple[int, int]] = {
    EngagementModel.HIGH_TOUCH: (4, 8),
    EngagementModel.HYBRID: (3, 6),
    EngagementModel.LOW_TOUCH: (2, 4),
}
KPI_OWNER_CHANCE: dict[str, float] = {
    EngagementModel.HIGH_TOUCH: 0.8,
    EngagementModel.HYBRID: 0.5,
    EngagementModel.LOW_TOUCH: 0.15,
}
GROUP_CHANCE = 0.35  # share of enterprise customers that are groups with subsidiaries
ROLE_ORDER = ContactRole.values  # the order services store roles in


@dataclass
class _PlannedAccount:
    company: names.Company
    locale: str
    segment: str
    engagement_model: str
    age_days: int
    fit: float
    owner_key: str | None = None
    parent: _PlannedAccount | None = None
    children: list[_PlannedAccount] = field(default_factory=list)
    account: Account | None = None


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _age_days(rng: random.Random, days: int) -> int:
    """How long ago a customer signed: spread over the window, more of them recently (we grow)."""
    share = rng.random() if rng.random() < 0.6 else 1 - math.sqrt(rng.random())
    return max(1, min(days, round(share * days)))


def _owner_key(ctx: DemoContext, rng: random.Random, locale: str, engagement_model: str) -> str | None:
    if engagement_model == EngagementModel.LOW_TOUCH:
        roll = rng.random()
        if roll < 0.55:
            return "pool"
        if roll < 0.85:
            return None
    speakers = csms_for(locale)
    if speakers and rng.random() < 0.8:
        return rng.choice(speakers)
    return rng.choice(csm_keys(ctx))


class _Namer:
    """Companies with names and domains no other demo account has."""

    def __init__(self, ctx: DemoContext, rng: random.Random) -> None:
        self.ctx, self.rng = ctx, rng
        self.names: set[str] = set()
        self.domains: set[str] = set()

    def _free(self, company: names.Company) -> bool:
        return company.name not in self.names and company.domain not in self.domains

    def _take(self, company: names.Company) -> names.Company:
        self.names.add(company.name)
        self.domains.add(company.domain)
        return company

    def company(self, locale: str) -> names.Company:
        for _attempt in range(8):
            candidate = names.company(locale, self.ctx.faker(locale), self.rng)
            if self._free(candidate):
                return self._take(candidate)
        regions = names.SUBSIDIARY_REGIONS[locale]
        for region in self.rng.sample(regions, k=len(regions)):
            regional = names.with_region(candidate, locale, region)
            if self._free(regional):
                return self._take(regional)
        number = len(self.names)  # a last resort that is always new
        return self._take(
            names.Company(
                f"{candidate.name} {number}",
                f"{candidate.slug}{number}",
                candidate.tld,
                candidate.brand,
                candidate.legal_form,
            )
        )

    def subsidiary(self, parent: names.Company, locale: str, region: tuple[str, str]) -> names.Company | None:
        candidate = names.subsidiary(parent, locale, region)
        return self._take(candidate) if self._free(candidate) else None


def _plan_accounts(ctx: DemoContext, rng: random.Random) -> list[_PlannedAccount]:
    """Every account in external-id order: each group's parent first, its subsidiaries right after."""
    namer = _Namer(ctx, rng)
    planned: list[_PlannedAccount] = []
    roots = 0
    while len(planned) < ctx.account_count:
        # The first customers cover every segment and script, so even a tiny demo shows them all.
        segment = list(SEGMENT_SHARES)[roots] if roots < len(SEGMENT_SHARES) else _pick(rng, SEGMENT_SHARES)
        locale = LOCALES[roots] if roots < len(LOCALES) else _pick(rng, LOCALE_SHARES)
        engagement_model = _pick(rng, ENGAGEMENT_BY_SEGMENT[segment])
        # The very first customer signed when the window opens, so the timeline spans all of it.
        age = ctx.days - rng.randint(0, min(2, ctx.days - 1)) if roots == 0 else _age_days(rng, ctx.days)
        root = _PlannedAccount(
            company=namer.company(locale),
            locale=locale,
            segment=segment,
            engagement_model=engagement_model,
            age_days=age,
            fit=rng.betavariate(3, 2),
            owner_key=_owner_key(ctx, rng, locale, engagement_model),
        )
        planned.append(root)
        roots += 1
        room = ctx.account_count - len(planned)
        if segment == ENTERPRISE and room > 0 and (roots == 1 or rng.random() < GROUP_CHANCE):
            regions = rng.sample(names.SUBSIDIARY_REGIONS[locale], k=min(rng.randint(1, 4), room))
            for region in regions:
                company = namer.subsidiary(root.company, locale, region)
                if company is None:
                    continue
                child_segment = ENTERPRISE if rng.random() < 0.4 else MID_MARKET
                child = _PlannedAccount(
                    company=company,
                    locale=locale,
                    segment=child_segment,
                    engagement_model=_pick(rng, ENGAGEMENT_BY_SEGMENT[child_segment]),
                    # A subsidiary signs on the same day as its group or later.
                    age_days=rng.randint(max(1, root.age_days // 3), root.age_days),
                    fit=min(1.0, max(0.0, root.fit + rng.uniform(-0.15, 0.15))),
                    owner_key=root.owner_key,
                    parent=root,
                )
                root.children.append(child)
                planned.append(child)
    return planned


def _signed_at(ctx: DemoContext, rng: random.Random, age_days: int) -> datetime:
    day = ctx.anchor - timedelta(days=age_days)
    return ctx.at(day, rng.randint(8, 17), rng.randrange(0, 60))


def _contact_roles(rng: random.Random, count: int, engagement_model: str) -> list[set[str]]:
    """Who plays which part: one champion, a decision maker, often a KPI owner and billing, users."""
    roles: list[set[str]] = [set() for _ in range(count)]
    roles[0].add(ContactRole.CHAMPION)
    if rng.random() < 0.6:
        roles[0].add(ContactRole.USER)  # champions usually use the product themselves
    roles[1].add(ContactRole.DECISION_MAKER)
    free = list(range(2, count))
    if rng.random() < KPI_OWNER_CHANCE[engagement_model]:
        (roles[free.pop(0)] if free and rng.random() < 0.7 else roles[0]).add(ContactRole.KPI_OWNER)
    if rng.random() < 0.85:
        (roles[free.pop(0)] if free and rng.random() < 0.8 else roles[1]).add(ContactRole.BILLING)
    for index in free:
        roles[index].add(ContactRole.USER)
    return roles


def _job_title(rng: random.Random, locale: str, roles: list[str]) -> str:
    for role in (
        ContactRole.DECISION_MAKER,
        ContactRole.CHAMPION,
        ContactRole.KPI_OWNER,
        ContactRole.BILLING,
        ContactRole.USER,
    ):
        if role in roles:
            return rng.choice(names.JOB_TITLES[role][locale])
    return ""


@step("accounts", after=("people",))
def accounts(ctx: DemoContext) -> None:
    rng = ctx.rng
    ctx.segments = {
        segment.name: segment
        for segment in ctx.bulk_create(Segment, [Segment(name=name, tier=tier) for name, tier in SEGMENTS])
    }
    planned = _plan_accounts(ctx, rng)

    for number, plan in enumerate(planned, start=1):
        owner = ctx.users.get(plan.owner_key) if plan.owner_key else None
        plan.account = Account(
            name=plan.company.name,
            domain=plan.company.domain,
            external_id=f"acct_{number:06d}",
            owner=owner,
            segment=ctx.segments[plan.segment],
            engagement_model=plan.engagement_model,
            created_at=_signed_at(ctx, rng, plan.age_days),
        )
    # Groups first, so their subsidiaries can point at them in the second insert.
    # (Every plan.account is set by the loop above.)
    ctx.bulk_create(
        Account,
        [cast(Account, plan.account) for plan in planned if plan.parent is None],
        count_as="accounts.account",
    )
    for plan in planned:
        if plan.parent is not None:
            cast(Account, plan.account).parent = plan.parent.account
    ctx.bulk_create(
        Account,
        [cast(Account, plan.account) for plan in planned if plan.parent is not None],
        count_as="accounts.account",
    )

    demo_accounts: dict[int, DemoAccount] = {}
    for plan in planned:
        demo_account = DemoAccount(
            account=cast(Account, plan.account),
            locale=plan.locale,
            fit=plan.fit,
            parent=demo_accounts[id(plan.parent)] if plan.parent else None,
        )
        demo_accounts[id(plan)] = demo_account
        ctx.accounts.append(demo_account)
    _add_contacts(ctx, rng)
    _add_timeline_entries(ctx)


def _add_contacts(ctx: DemoContext, rng: random.Random) -> None:
    pools = names.PeoplePools(ctx.fakers)
    product_user_number = 0
    contacts: list[Contact] = []
    for demo_account in ctx.accounts:
        account = demo_account.account
        low, high = CONTACTS_BY_MODEL[account.engagement_model]
        count = rng.randint(low, high)
        age = ctx.end - account.created_at
        emails: set[str] = set()
        for index, roles in enumerate(_contact_roles(rng, count, account.engagement_model)):
            person = pools.person(demo_account.locale, rng)
            local_part = person.email_local_part.strip(".") or "contact"
            email = f"{local_part}@{account.domain}"
            suffix = 2
            while email in emails:
                email, suffix = f"{local_part}{suffix}@{account.domain}", suffix + 1
            emails.add(email)
            ordered_roles = [role for role in ROLE_ORDER if role in roles]
            uses_product = bool(roles & {ContactRole.USER, ContactRole.CHAMPION, ContactRole.KPI_OWNER})
            if uses_product:
                product_user_number += 1
            # The first people arrive with the deal; the others join over the account's life.
            if index < 3:
                created_at = account.created_at + timedelta(minutes=1 + index)
            else:
                joined_on = (account.created_at + age * rng.random()).astimezone(ctx.tz).date()
                created_at = max(
                    account.created_at + timedelta(minutes=1 + index),
                    ctx.at(joined_on, rng.randint(8, 18), rng.randrange(60)),
                )
            contact = Contact(
                account=account,
                name=person.name,
                email=email,
                title=_job_title(rng, demo_account.locale, ordered_roles),
                phone=names.phone(demo_account.locale, rng) if rng.random() < 0.7 else "",
                external_id=f"user_{product_user_number:07d}" if uses_product else None,
                created_at=created_at,
            )
            contacts.append(contact)
            demo_account.contacts.append(
                DemoContact(contact=contact, roles=ordered_roles, locale=demo_account.locale)
            )
    ctx.bulk_create(Contact, contacts)
    ctx.insert_rows(
        ContactRoleAssignment,
        ("contact_id", "role"),
        [
            (demo_contact.contact.pk, role)
            for demo_account in ctx.accounts
            for demo_contact in demo_account.contacts
            for role in demo_contact.roles
        ],
    )
    for demo_account in ctx.accounts:
        demo_account.contacts.sort(key=lambda demo_contact: demo_contact.contact.created_at)


def _add_timeline_entries(ctx: DemoContext) -> None:
    """What create_account and create_contact put on the timeline, at the moments they happened."""
    account_type = ContentType.objects.get_for_model(Account).pk
    contact_type = ContentType.objects.get_for_model(Contact).pk
    rows: list[tuple] = []
    for demo_account in ctx.accounts:
        account = demo_account.account
        rows.append(
            timeline_row(
                account_id=account.pk,
                kind="account_created",
                occurred_at=account.created_at,
                title="Account created",
                subject_type_id=account_type,
                subject_id=account.pk,
                data={},
            )
        )
        for demo_contact in demo_account.contacts:
            contact = demo_contact.contact
            rows.append(
                timeline_row(
                    account_id=account.pk,
                    kind="contact_added",
                    occurred_at=contact.created_at,
                    title=f"{contact.name} added as a contact",
                    actor_id=account.owner_id,
                    subject_type_id=contact_type,
                    subject_id=contact.pk,
                    data={"name": contact.name, "roles": demo_contact.roles},
                )
            )
    ctx.insert_rows(TimelineEntry, TIMELINE_COLUMNS, rows)


@step("account_teams", after=("timeline",))
def account_teams(ctx: DemoContext) -> None:
    """Books of business beyond the owner: high-touch accounts often have the CS leader as executive
    sponsor, and some share the work with a second CSM. Written as add_team_member writes them."""
    member_type = ContentType.objects.get_for_model(AccountTeamMember).pk
    csms = [ctx.users[key] for key in csm_keys(ctx)]
    leader = ctx.users.get("leader")
    planned: list[tuple[Account, User, str, datetime]] = []
    for demo_account in ctx.accounts:
        account = demo_account.account
        if account.engagement_model != EngagementModel.HIGH_TOUCH:
            continue
        # Within the account's first month, and never after the demo's last moment.
        room = min(timedelta(days=30), ctx.end - timedelta(hours=2) - account.created_at)
        joined = account.created_at + room * ctx.rng.random()
        if leader is not None and ctx.rng.random() < 0.5:
            planned.append((account, leader, TeamRole.EXECUTIVE_SPONSOR, joined))
        others = [csm for csm in csms if csm.pk != account.owner_id]
        if others and ctx.rng.random() < 0.25:
            planned.append((account, ctx.rng.choice(others), TeamRole.CSM, joined + timedelta(hours=1)))
    members = ctx.bulk_create(
        AccountTeamMember,
        [
            AccountTeamMember(account=account, user=user, role=role, added_at=when)
            for account, user, role, when in planned
        ],
    )
    ctx.insert_rows(
        TimelineEntry,
        TIMELINE_COLUMNS,
        [
            timeline_row(
                account_id=member.account_id,
                kind="team_member_added",
                occurred_at=member.added_at,
                title=f"{member.user.get_full_name()} joined the account team ({member.role})",
                actor_id=member.account.owner_id,
                subject_type_id=member_type,
                subject_id=member.pk,
                data={"user": member.user.get_full_name(), "email": member.user.email, "role": member.role},
            )
            for member in members
        ],
    )


# Accounts first: deleting them takes their contacts, timelines and every other app's rows about them.
register_data(
    "accounts",
    label=_("accounts"),
    count=lambda: Account.objects.count(),
    delete=lambda: Account.objects.all().delete(),
    order=10,
)
register_data(
    "segments",
    label=_("segments"),
    count=lambda: Segment.objects.count(),
    delete=lambda: Segment.objects.all().delete(),
    order=20,
)

# The "timeline" step (meetings, calls, emails, notes) builds on this one; it is in its own module.
from touchpoint.accounts import demo_timeline  # noqa: E402, F401
