"""The portfolio's columns, filters, CSV columns and sections, filled by the apps.

The portfolio page, its htmx partial, the CSV export and the accounts list API all read these
registries, so an app that adds a column or a filter adds it everywhere at once. accounts registers
its own (name, owner, segment…) in `register_core()`; other apps register theirs from their
AppConfig.ready():

    from touchpoint.registry import Registry
from touchpoint.accounts.portfolio import portfolio_columns, portfolio_filters

    portfolio_columns.add(
        key="health", label=_("Health"), order=15, template="health/_portfolio_cell.html",
        queryset=with_health,                                  # annotate/join: no query per row
        sort=(F("health_score").asc(nulls_last=True), "name_lower", "id"),
        sort_desc=(F("health_score").desc(nulls_last=True), "name_lower", "id"),
        page_data=lambda accounts: sparklines([a.pk for a in accounts]),  # one query per page
    )
    portfolio_filters.add(
        key="grade", order=60, field=lambda: forms.ChoiceField(...), apply=filter_by_grade, api_type=str,
    )

Columns
    `queryset(qs)` runs on every portfolio query (page, export, API) before the filters and the
    sort, so a column's annotations can be sorted and filtered on. `sort`/`sort_desc` are the
    `order_by()` of `?sort=<key>` and `?sort=-<key>` (`name_lower` is always there for ties).
    `template` renders one cell with `account`, `column` and `data` (what `page_data` returned
    for the accounts of the page, once per page) in its context.
Filters
    `field()` makes the form field (query parameter `key`); `apply(qs, value)` filters by the
    field's cleaned value. The API accepts the same parameter (typed `api_type`), cleans it with
    the same field (a bad value is a 422 naming it) and applies the same function.
Export columns
    `value(account)` is the CSV cell under `header`; `queryset(qs)` joins what it reads.
Sections
    Blocks above the results (e.g. the health distribution), loaded with htmx from `url_name`
    with the page's query string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.db.models.expressions import OrderBy
from django.utils.functional import Promise

from touchpoint.registry import Registry

QuerysetHook = Callable[[QuerySet], QuerySet]
Ordering = tuple["str | OrderBy", ...]


@dataclass(frozen=True)
class PortfolioColumn:
    key: str
    label: str | Promise
    template: str
    order: int = 100
    queryset: QuerysetHook | None = None
    sort: Ordering | None = None
    sort_desc: Ordering | None = None
    page_data: Callable[[list[Any]], Any] | None = None
    css_class: str = ""

    @property
    def sortable(self) -> bool:
        return self.sort is not None


@dataclass(frozen=True)
class PortfolioFilterField:
    key: str
    field: Callable[[], forms.Field]
    apply: Callable[[QuerySet, Any], QuerySet]
    order: int = 100
    api_type: Any = str


@dataclass(frozen=True)
class ExportColumn:
    header: str
    value: Callable[[Any], Any]
    order: int = 100
    queryset: QuerysetHook | None = None


@dataclass(frozen=True)
class PortfolioSection:
    key: str
    url_name: str
    order: int = 100
    permission: str | None = None


class PortfolioColumns(Registry[PortfolioColumn]):
    def add(
        self,
        *,
        key: str,
        label: str | Promise,
        template: str,
        order: int = 100,
        queryset: QuerysetHook | None = None,
        sort: Sequence[str | OrderBy] | None = None,
        sort_desc: Sequence[str | OrderBy] | None = None,
        page_data: Callable[[list[Any]], Any] | None = None,
        css_class: str = "",
    ) -> PortfolioColumn:
        if sort_desc is not None and sort is None:
            raise ValueError(f"Portfolio column {key!r}: sort_desc without sort.")
        return self._put(
            key,
            PortfolioColumn(
                key=key,
                label=label,
                template=template,
                order=order,
                queryset=queryset,
                sort=tuple(sort) if sort is not None else None,
                sort_desc=tuple(sort_desc) if sort_desc is not None else None,
                page_data=page_data,
                css_class=css_class,
            ),
        )

    def orderings(self) -> dict[str, Ordering]:
        """Every `sort=` value people can ask for and the order_by() behind it."""
        found: dict[str, Ordering] = {}
        for column in self.all():
            if column.sort is None:
                continue
            found[column.key] = column.sort
            found[f"-{column.key}"] = column.sort_desc or tuple(_reverse(part) for part in column.sort)
        return found


def _reverse(part: str | OrderBy) -> str | OrderBy:
    if isinstance(part, OrderBy):
        return OrderBy(part.expression, descending=not part.descending, nulls_last=part.nulls_last)
    return part[1:] if part.startswith("-") else f"-{part}"


class PortfolioFilters(Registry[PortfolioFilterField]):
    def add(
        self,
        *,
        key: str,
        field: Callable[[], forms.Field],
        apply: Callable[[QuerySet, Any], QuerySet],
        order: int = 100,
        api_type: Any = str,
    ) -> PortfolioFilterField:
        return self._put(
            key, PortfolioFilterField(key=key, field=field, apply=apply, order=order, api_type=api_type)
        )


class ExportColumns(Registry[ExportColumn]):
    def add(
        self,
        *,
        header: str,
        value: Callable[[Any], Any],
        order: int = 100,
        queryset: QuerysetHook | None = None,
    ) -> ExportColumn:
        return self._put(header, ExportColumn(header=header, value=value, order=order, queryset=queryset))


class PortfolioSections(Registry[PortfolioSection]):
    def add(
        self, *, key: str, url_name: str, order: int = 100, permission: str | None = None
    ) -> PortfolioSection:
        return self._put(
            key, PortfolioSection(key=key, url_name=url_name, order=order, permission=permission)
        )


portfolio_columns = PortfolioColumns()
portfolio_filters = PortfolioFilters()
portfolio_export_columns = ExportColumns()
portfolio_sections = PortfolioSections()

DEFAULT_PORTFOLIO_ORDER = "name"


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def with_last_touch(qs: QuerySet) -> QuerySet:
    """Each account's last human touch (`last_touch`: when the latest note, call, meeting, email or
    other kind registered as a human touch happened), as one subquery on the timeline's index."""
    from django.db.models import OuterRef, Subquery

    from touchpoint.accounts.models import TimelineEntry
    from touchpoint.accounts.timeline import registered_kinds

    kinds = [kind.value for kind in registered_kinds() if kind.is_human_touch]
    latest = (
        TimelineEntry.objects.filter(account_id=OuterRef("pk"), kind__in=kinds)
        .order_by("-occurred_at", "-id")
        .values("occurred_at")[:1]
    )
    return qs.annotate(last_touch=Subquery(latest))


def register_core() -> None:
    """accounts' own columns and CSV columns (called from AccountsConfig.ready())."""
    from django.db.models import F
    from django.utils.translation import gettext_lazy as _

    column = "accounts/portfolio/"
    portfolio_columns.add(
        key="name",
        label=_("Account"),
        order=10,
        template=column + "name.html",
        sort=("name_lower", "id"),
        sort_desc=("-name_lower", "-id"),
    )
    portfolio_columns.add(
        key="owner",
        label=_("Owner"),
        order=30,
        template=column + "owner.html",
        sort=("owner__full_name", "name_lower", "id"),
        sort_desc=("-owner__full_name", "name_lower", "id"),
    )
    portfolio_columns.add(
        key="segment",
        label=_("Segment"),
        order=40,
        template=column + "segment.html",
        sort=("segment__tier", "segment__name", "name_lower", "id"),
        sort_desc=("-segment__tier", "-segment__name", "name_lower", "id"),
    )
    portfolio_columns.add(
        key="engagement",
        label=_("Engagement model"),
        order=50,
        template=column + "engagement.html",
        sort=("engagement_model", "name_lower", "id"),
        sort_desc=("-engagement_model", "name_lower", "id"),
    )
    portfolio_columns.add(
        key="last_touch",
        label=_("Last touch"),
        order=70,
        template=column + "last_touch.html",
        css_class="number",
        queryset=with_last_touch,
        # Fewest days first (the latest touch); the other way, never-touched accounts lead.
        sort=(F("last_touch").desc(nulls_last=True), "name_lower", "id"),
        sort_desc=(F("last_touch").asc(nulls_first=True), "name_lower", "id"),
    )
    portfolio_columns.add(
        key="created",
        label=_("Customer since"),
        order=90,
        template=column + "created.html",
        sort=("created_at", "id"),
        sort_desc=("-created_at", "-id"),
    )

    def owner_name(account: Any) -> str:
        return account.owner.get_full_name() if account.owner else ""

    for order, header, value in (
        (10, "id", lambda a: a.pk),
        (20, "name", lambda a: a.name),
        (30, "domain", lambda a: a.domain),
        (40, "external_id", lambda a: a.external_id or ""),
        (50, "owner", owner_name),
        (60, "owner_email", lambda a: a.owner.email if a.owner else ""),
        (70, "segment", lambda a: a.segment.name if a.segment else ""),
        (80, "engagement_model", lambda a: a.engagement_model),
        (110, "parent", lambda a: a.parent.name if a.parent else ""),
        (115, "last_touch_at", lambda a: a.last_touch.isoformat() if a.last_touch else ""),
        (120, "created_at", lambda a: a.created_at.isoformat()),
    ):
        portfolio_export_columns.add(header=header, value=value, order=order)
