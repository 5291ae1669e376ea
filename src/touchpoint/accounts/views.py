"""Pages for the portfolio and the account 360. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from touchpoint.accounts import selectors, services
from touchpoint.accounts.forms import (
    ALL_ACCOUNTS,
    AccountForm,
    EngagementForm,
    NewAccountForm,
    NewContactForm,
    PortfolioFilterForm,
    SaveViewForm,
    TeamMemberForm,
    default_book,
    may_read_other_books,
    portfolio_query,
)
from touchpoint.accounts.models import Account, SavedView
from touchpoint.accounts.panels import account_header_facts, account_panels
from touchpoint.accounts.portfolio import portfolio_columns, portfolio_export_columns, portfolio_sections
from touchpoint.accounts.timeline import registered_kinds
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.spreadsheet import SafeWriter
from touchpoint.users.audit import record_export
from touchpoint.users.models import User
from touchpoint.users.permissions import can, require


@login_required
@require_GET
def portfolio(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _render_portfolio(request)


def _portfolio_params(
    request: AuthenticatedHttpRequest, query: QueryDict | None = None, *, may_read_all: bool
) -> QueryDict:
    """The query as asked, with the book to show when none is asked: on a page opened without filters,
    a CSM's own book (everyone else: all accounts); a link that asks for filters (an owner, a grade)
    without a book means all the accounts the reader may read."""
    params = (query if query is not None else request.GET).copy()
    if not may_read_all:
        params["book"] = ALL_ACCOUNTS  # their book is all they read
    elif not params.get("book"):
        asked = any(params.get(name) for name in params if name not in ("page", "sort"))
        params["book"] = ALL_ACCOUNTS if asked else default_book(request.user)
    return params


def _render_portfolio(
    request: AuthenticatedHttpRequest,
    *,
    query: QueryDict | None = None,
    save_form: SaveViewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    may_read_all = may_read_other_books(request.user)
    params = _portfolio_params(request, query, may_read_all=may_read_all)
    form = PortfolioFilterForm(params)
    if not may_read_all:
        # Their book is all they may read: nothing to switch between.
        del form.fields["book"]
    filters = form.to_filter()
    accounts = selectors.portfolio(filters, reader=request.user)
    page = Paginator(accounts, settings.PORTFOLIO_PAGE_SIZE).get_page(params.get("page"))
    rows = list(page.object_list)
    page.object_list = rows
    columns = [
        {"column": column, "data": column.page_data(rows) if column.page_data is not None else None}
        for column in portfolio_columns.all()
    ]
    may_share = can(request.user, "accounts.share_savedview")
    current_query, _dropped = portfolio_query(params)
    context = {
        "form": form,
        "page": page,
        "columns": columns,
        "sections": portfolio_sections.visible_to(request.user),
        "order": filters.order,
        "querystring": _querystring_without(params, "page"),
        "sort_querystring": _querystring_without(params, "page", "sort"),
        "saved_views": selectors.saved_views(request.user),
        "save_form": save_form or SaveViewForm(initial={"query": current_query}, may_share=may_share),
        "current_query": current_query,
    }
    template = "accounts/_portfolio_results.html" if request.htmx else "accounts/portfolio.html"
    return render(request, template, context, status=status)


def _querystring_without(params: QueryDict, *names: str) -> str:
    params = params.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@login_required
@require_GET
def portfolio_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    """Every account the current filters match (not just the page shown), as CSV."""
    params = _portfolio_params(request, may_read_all=may_read_other_books(request.user))
    filters = PortfolioFilterForm(params).to_filter()
    accounts = selectors.portfolio_export(selectors.portfolio(filters, reader=request.user))
    columns = portfolio_export_columns.all()

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = SafeWriter(Echo())

    def rows() -> Iterator[str]:
        # A byte-order mark makes spreadsheet programs read the UTF-8 (Japanese, Thai, Russian names) right.
        yield "\ufeff"
        yield writer.writerow([column.header for column in columns])
        for account in accounts.iterator(chunk_size=2000):
            yield writer.writerow([column.value(account) for column in columns])

    record_export(request, what="accounts.csv", rows=accounts.count())
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="touchpoint-accounts-{stamp}.csv"'
    return response


@login_required
@require_GET
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    return _render_account_page(request, account_id, engagement_form=None)


def _render_account_page(
    request: HttpRequest,
    account_id: int,
    *,
    engagement_form: EngagementForm | None = None,
    account_form: AccountForm | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        account = selectors.account_for_360(account_id)
    except Account.DoesNotExist:
        raise Http404 from None
    require(request.user, "accounts.view_account", account)
    kind = _timeline_kind(request)
    entries, next_cursor = selectors.timeline_page(
        account, after=None, size=settings.TIMELINE_PAGE_SIZE, kinds=[kind] if kind else None
    )
    context = {
        **_header_context(request, account),
        "panels": account_panels.visible_to(request.user),
        "contacts": selectors.contacts_of(account),
        "entries": entries,
        "next_cursor": next_cursor,
        "timeline_kind": kind,
        "timeline_kinds": _kind_choices(),
        "engagement_form": engagement_form or EngagementForm(account=account),
        "account_form": account_form or _account_form(request, account),
        **_team_context(request, account),
    }
    return render(request, "accounts/account_detail.html", context, status=status)


def _header_context(request: HttpRequest, account: Account) -> dict:
    """What the account header needs: the account and the facts other apps add to it."""
    return {
        "account": account,
        "header_facts": account_header_facts.visible_to(request.user),
        "key_people": selectors.key_people(account),
    }


def _kind_choices() -> list[tuple[str, str]]:
    """The registered timeline kinds, by label in the reader's language, for the filter above it."""
    return sorted(
        ((k.value, str(k.label)) for k in registered_kinds()), key=lambda choice: choice[1].casefold()
    )


def _timeline_kind(request: HttpRequest) -> str:
    """The kind the timeline is filtered by (`?kind=`), or "" for all; an unknown kind is a 400."""
    kind = request.GET.get("kind", "")
    if kind and kind not in {k.value for k in registered_kinds()}:
        raise BadRequest(_("Unknown kind of timeline entry."))
    return kind


@login_required
@require_GET
def account_timeline(request: HttpRequest, account_id: int) -> HttpResponse:
    """A page of the timeline: the next one (htmx "load more"), or the first of one kind (the filter)."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "accounts.view_account", account)
    kind = _timeline_kind(request)
    cursor = selectors.TimelineCursor.decode(request.GET.get("after", ""))
    entries, next_cursor = selectors.timeline_page(
        account, after=cursor, size=settings.TIMELINE_PAGE_SIZE, kinds=[kind] if kind else None
    )
    return render(
        request,
        "accounts/_timeline_page.html",
        {
            "account": account,
            "entries": entries,
            "next_cursor": next_cursor,
            "timeline_kind": kind,
            "first_page": cursor is None,
        },
    )


def _show_beside_fields(form, error: ValidationError) -> None:
    """Put a service's field errors beside the form's fields (the rest above the form)."""
    for field, texts in error.message_dict.items():
        form.add_error(field if field in form.fields else None, texts)


@login_required
@require_POST
def log_engagement_view(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "accounts.add_engagement", account)
    form = EngagementForm(request.POST, account=account)
    entry = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            engagement = services.log_engagement(account=account, actor=request.user, **data)
        except ValidationError as error:
            _show_beside_fields(form, error)
        else:
            entry = selectors.timeline_entries(account).get(subject_id=engagement.pk, kind=engagement.kind)
            form = EngagementForm(account=account, initial={"kind": data["kind"]})
    if not request.htmx:
        if entry is not None:
            return redirect("account-detail", account_id=account.pk)
        return _render_account_page(request, account.pk, engagement_form=form, status=400)
    return render(
        request,
        "accounts/_engagement_form.html",
        {"account": account, "engagement_form": form, "new_entry": entry, "saved": entry is not None},
    )


def _account_form(request: HttpRequest, account: Account, data=None) -> AccountForm:
    # The owner field is shown to everyone but only leaders and admins change it.
    return AccountForm(
        data,
        account=account,
        may_reassign=can(request.user, "accounts.change_account_owner", account),
    )


@login_required
@require_POST
def account_edit(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """Change the header facts; answers htmx with the header and the new timeline entry."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "accounts.change_account", account)
    form = _account_form(request, account, request.POST)
    saved = False
    if form.is_valid():
        changes = dict(form.cleaned_data)
        try:
            services.update_account(account=account, actor=request.user, **changes)
            saved = True
        except ValidationError as error:
            _show_beside_fields(form, error)
    if not request.htmx:
        if saved:
            return redirect("account-detail", account_id=account.pk)
        return _render_account_page(request, account.pk, account_form=form, status=400)
    account = selectors.account_for_360(account.pk)
    new_entry = selectors.timeline_entries(account).filter(kind="account_changed").first() if saved else None
    return render(
        request,
        "accounts/_account_header.html",
        {
            **_header_context(request, account),
            "account_form": _account_form(request, account) if saved else form,
            "account_saved": saved,
            "new_entry": new_entry,
        },
    )


# --- The account team -------------------------------------------------------------------------


def _team_context(request: HttpRequest, account: Account, form: TeamMemberForm | None = None) -> dict:
    may_manage = can(request.user, "accounts.add_accountteammember", account)
    return {
        "team": selectors.account_team(account),
        "may_manage_team": may_manage,
        "team_form": (form or TeamMemberForm(account=account)) if may_manage else None,
    }


@login_required
@require_http_methods(["GET", "POST"])
def account_team(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The team section of the account page (htmx); its forms add (action=add) or remove a member."""
    account = get_object_or_404(Account.objects.select_related("owner"), pk=account_id)
    require(request.user, "accounts.view_account", account)
    form = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "remove":
            require(request.user, "accounts.delete_accountteammember", account)
            user_id = request.POST.get("user", "")
            if not user_id.isdecimal():
                return HttpResponseBadRequest(_("Choose a member of this team."))
            member = get_object_or_404(User, pk=int(user_id), account_teams__account=account)
            services.remove_team_member(account=account, user=member, actor=request.user)
        elif action == "add":
            require(request.user, "accounts.add_accountteammember", account)
            form = TeamMemberForm(request.POST, account=account)
            if form.is_valid():
                try:
                    services.add_team_member(account=account, actor=request.user, **form.cleaned_data)
                except ValidationError as error:
                    _show_beside_fields(form, error)
                else:
                    form = None
            if form is not None:
                status = 200 if request.htmx else 422
        else:
            return HttpResponseBadRequest(_("Unknown action."))
        if not request.htmx and form is None:
            return redirect("account-detail", account_id=account.pk)
    return render(
        request,
        "accounts/_account_team.html",
        {"account": account, **_team_context(request, account, form)},
        status=status,
    )


# --- New accounts and contacts ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Add a customer company (the same service, and so the same checks, as the API and the import)."""
    require(request.user, "accounts.add_account")
    may_reassign = can(request.user, "accounts.change_account_owner")
    form = NewAccountForm(
        request.POST if request.method == "POST" else None, actor=request.user, may_reassign=may_reassign
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            data.pop("same_domain_ok")
            try:
                account = services.create_account(actor=request.user, **data)
            except ValidationError as error:
                _show_beside_fields(form, error)
            else:
                messages.success(request, _("Account added."))
                return redirect("account-detail", account_id=account.pk)
        status = 422
    return render(request, "accounts/account_new.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """Add a person to an account, with their roles; back to the account page once added."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "accounts.add_contact", account)
    form = NewContactForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.create_contact(account=account, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                _show_beside_fields(form, error)
            else:
                messages.success(request, _("Contact added."))
                return redirect(reverse("account-detail", args=[account.pk]) + "#contacts-heading")
        status = 422
    return render(request, "accounts/contact_new.html", {"account": account, "form": form}, status=status)


# --- Saved portfolio views --------------------------------------------------------------------


@login_required
@require_POST
def saved_view_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Save the portfolio's current filters and sort under a name; back to the portfolio with them."""
    require(request.user, "accounts.add_savedview")
    may_share = can(request.user, "accounts.share_savedview")
    form = SaveViewForm(request.POST, may_share=may_share)
    if form.is_valid():
        query, _dropped = portfolio_query(QueryDict(form.cleaned_data["query"]))
        try:
            view = services.save_view(
                user=request.user,
                name=form.cleaned_data["name"],
                query=query,
                shared=form.cleaned_data.get("shared", False),
            )
        except ValidationError as error:
            _show_beside_fields(form, error)
        else:
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            return redirect(_portfolio_url(view.query))
    # Show the portfolio the person was looking at, with the form's errors in the open menu.
    return _render_portfolio(
        request, query=QueryDict(str(form.data.get("query", ""))[:2000]), save_form=form, status=422
    )


def _portfolio_url(query: str) -> str:
    return reverse("portfolio") + (f"?{query}" if query else "")


@login_required
@require_GET
def saved_view_open(request: AuthenticatedHttpRequest, view_id: int) -> HttpResponse:
    """Open the portfolio with a saved view's filters, leaving out (and saying so) any that no longer apply."""
    view = get_object_or_404(SavedView, Q(user_id=request.user.pk) | Q(shared=True), pk=view_id)
    require(request.user, "accounts.view_savedview", view)
    query, dropped = portfolio_query(QueryDict(view.query))
    if dropped:
        messages.warning(
            request,
            _("Some filters of “%(name)s” no longer apply and were left out: %(filters)s.")
            % {"name": view.name, "filters": ", ".join(dropped)},
        )
    return redirect(_portfolio_url(query))


@login_required
@require_POST
def saved_view_delete(request: AuthenticatedHttpRequest, view_id: int) -> HttpResponse:
    view = get_object_or_404(SavedView, Q(user_id=request.user.pk) | Q(shared=True), pk=view_id)
    require(request.user, "accounts.delete_savedview", view)
    services.delete_view(view=view, actor=request.user)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect("portfolio")
