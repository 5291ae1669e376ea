from __future__ import annotations

from django import forms
from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from touchpoint.accounts.models import Account, Contact
from touchpoint.health.measures import AsOf, Measure, MeasureSource, register_measure, register_source
from touchpoint.integrations.csv_import.importers import Field, Importer, Lookups, RowProblem
from touchpoint.integrations.csv_import.importers import register as register_import_kind
from touchpoint.users.models import User

MEASURE = "plugin_contacts"
IMPORT_KIND = "plugin_domains"


def with_contact_count(qs: QuerySet) -> QuerySet:
    count = (
        Contact.objects.filter(account_id=OuterRef("pk"))
        .order_by()
        .values("account_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return qs.annotate(plugin_contacts=Coalesce(Subquery(count[:1]), Value(0)))


def has_contacts(qs: QuerySet, value: bool) -> QuerySet:
    return qs.filter(plugin_contacts__gt=0) if value else qs


def contacts_sql(at: AsOf) -> tuple[str, list]:
    table = Contact._meta.db_table
    return (
        f"SELECT account_id, COUNT(*) AS contacts FROM {table} WHERE created_at < %s GROUP BY account_id",
        [at.end],
    )


def _clean_domain(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    external_id = (row.get("external_id") or "").strip()
    if lookups.account(external_id) is None:
        raise RowProblem("external_id", "No such account.")
    return {"external_id": external_id, "domain": (row.get("domain") or "").strip()}


def _apply_domain(values: dict, lookups: Lookups, actor: User | None) -> str:
    from touchpoint.accounts import services

    account = Account.objects.get(external_id=values["external_id"])
    if account.domain == values["domain"]:
        return "unchanged"
    services.update_account(account=account, actor=actor, domain=values["domain"])
    return "updated"


def register() -> None:
    from touchpoint.accounts.panels import account_header_facts, account_panels
    from touchpoint.accounts.portfolio import portfolio_columns, portfolio_export_columns, portfolio_filters
    from touchpoint.web.navigation import nav

    nav.add(key="plugin", label="Plugin page", url_name="plugin-page", order=95)
    account_panels.add(key="plugin", title="Plugin panel", url_name="plugin-panel", order=40)
    account_header_facts.add(
        key="plugin-fact", label="Plugin fact", template="plugin_app/fact.html", order=90
    )
    portfolio_columns.add(
        key="contacts",
        label="Contacts",
        order=70,
        template="plugin_app/contacts_cell.html",
        queryset=with_contact_count,
        sort=("plugin_contacts", "name_lower", "id"),
        page_data=lambda accounts: {"accounts_on_page": len(accounts)},
    )
    portfolio_filters.add(
        key="has_contacts",
        field=lambda: forms.BooleanField(label="Has contacts", required=False),
        apply=has_contacts,
        order=90,
        api_type=bool,
    )
    portfolio_export_columns.add(
        header="contact_count", value=lambda account: account.plugin_contacts, order=115
    )
    register_source(MeasureSource("plugin_contacts", columns=("contacts",), query=contacts_sql))
    # Weight 0: scored (its value is stored with every score) without moving other tests' scores.
    register_measure(
        Measure(
            MEASURE,
            label="Contacts",
            source="plugin_contacts",
            column="contacts",
            unit="people",
            weight=0,
            green=5,
            red=0,
        )
    )
    register_import_kind(
        Importer(
            kind=IMPORT_KIND,
            label="Account domains (plugin)",
            fields=[
                Field("external_id", "Account ID", aliases=("account id",), required=True),
                Field("domain", "Domain", aliases=("website",), required=True),
            ],
            clean=_clean_domain,
            apply=_apply_domain,
        )
    )
