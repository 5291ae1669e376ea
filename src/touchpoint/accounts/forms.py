"""Forms for the account pages: the portfolio filters, saved views, new accounts and contacts, the
log-a-touch form."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import (
    Account,
    Contact,
    ContactRole,
    EngagementKind,
    EngagementModel,
    Segment,
    TeamRole,
)
from touchpoint.accounts.portfolio import DEFAULT_PORTFOLIO_ORDER, portfolio_filters
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.accounts.selectors import PortfolioFilter, portfolio_orderings
from touchpoint.accounts.services import clean_domain, customer_since_of
from touchpoint.users.models import User
from touchpoint.users.permissions import csms_read_all_books, is_admin, is_csm, is_leader
from touchpoint.users.selectors import account_owners

UNOWNED = "none"
MY_BOOK, ALL_ACCOUNTS = "mine", "all"


def default_book(user: User) -> str:
    """Where the portfolio opens: a CSM on their book, leaders, admins and viewers on every account."""
    if is_csm(user) and not (is_leader(user) or is_admin(user)):
        return MY_BOOK
    return ALL_ACCOUNTS


def may_read_other_books(user: User) -> bool:
    """Whether "all accounts" shows anything more than the user's book."""
    return not is_csm(user) or is_leader(user) or is_admin(user) or csms_read_all_books()


class PortfolioFilterForm(forms.Form):
    book = forms.ChoiceField(
        label=_("Accounts"),
        required=False,
        choices=[(MY_BOOK, _("My book")), (ALL_ACCOUNTS, _("All accounts"))],
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    segment = forms.ModelChoiceField(
        label=_("Segment"), required=False, queryset=Segment.objects.none(), empty_label=_("All segments")
    )
    engagement = forms.ChoiceField(label=_("Engagement model"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False)
    # Other apps' filters (accounts/portfolio.py) are added after these, before `sort`.

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        owners = [(str(user.pk), str(user)) for user in account_owners()]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [
            ("", _("All owners")),
            (UNOWNED, _("No owner")),
            *owners,
        ]
        cast(forms.ModelChoiceField, self.fields["segment"]).queryset = Segment.objects.order_by(
            "tier", "name"
        )
        cast(forms.ChoiceField, self.fields["engagement"]).choices = [
            ("", _("All engagement models")),
            *EngagementModel.choices,
        ]
        sort = cast(forms.ChoiceField, self.fields.pop("sort"))
        for registered in portfolio_filters.all():
            self.fields[registered.key] = registered.field()
        sort.choices = [(key, key) for key in portfolio_orderings()]
        self.fields["sort"] = sort

    def to_filter(self) -> PortfolioFilter:
        """The filter people asked for; fields that did not validate are left out (and shown in error)."""
        data = (
            self.cleaned_data
            if self.is_valid()
            else {
                name: value
                for name, value in getattr(self, "cleaned_data", {}).items()
                if name not in self.errors
            }
        )
        owner = data.get("owner") or ""
        return PortfolioFilter(
            search=data.get("q") or "",
            owner_id=int(owner) if owner.isdecimal() else None,
            unowned=owner == UNOWNED,
            segment_id=data["segment"].pk if data.get("segment") else None,
            engagement_model=data.get("engagement") or "",
            mine_only=data.get("book") == MY_BOOK,
            order=data.get("sort") or DEFAULT_PORTFOLIO_ORDER,
            extra={registered.key: data.get(registered.key) for registered in portfolio_filters.all()},
        )


class EngagementForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=EngagementKind.choices, initial=EngagementKind.NOTE, widget=forms.RadioSelect
    )
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(
        label=_("Details"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text=_("Leave empty for now."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=1, max_value=24 * 60
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("With"), required=False, queryset=Contact.objects.none()
    )

    def __init__(self, *args, account: Account, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["contacts"]).queryset = Contact.objects.filter(
            account=account
        ).order_by("name")
        # The browser's picker offers only the window the service accepts (it checks again).
        now = timezone.localtime()
        try:
            earliest = now - timedelta(days=settings.TOUCHPOINT_TIMELINE_PAST_DAYS)
            latest = now + timedelta(days=settings.TOUCHPOINT_TIMELINE_FUTURE_DAYS)
        except OverflowError:
            return
        self.fields["occurred_at"].widget.attrs.update(
            min=f"{earliest.date().isoformat()}T00:00", max=f"{latest.date().isoformat()}T23:59"
        )

    def clean(self):
        cleaned = super().clean() or {}
        if not (cleaned.get("subject") or "").strip() and not (cleaned.get("body") or "").strip():
            field = "body" if cleaned.get("kind") == EngagementKind.NOTE else "subject"
            self.add_error(field, _("Write something to record."))
        return cleaned


class AccountForm(forms.Form):
    """The account header's editable facts (parent and external ID are changed through the API)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    domain = forms.CharField(label=_("Domain"), required=False, max_length=253)
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=User.objects.none(), empty_label=_("No owner")
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"), required=False, queryset=Segment.objects.none(), empty_label="—"
    )
    engagement_model = forms.ChoiceField(label=_("Engagement model"), choices=EngagementModel.choices)
    customer_since = forms.DateField(
        label=_("Customer since"),
        required=False,  # left empty: unchanged
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day it became a customer: health counts its tenure from it."),
    )

    def __init__(self, *args, account: Account, may_reassign: bool = True, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "name": account.name,
                "domain": account.domain,
                "owner": account.owner_id,
                "segment": account.segment_id,
                "engagement_model": account.engagement_model,
                "customer_since": customer_since_of(account),
            },
        )
        super().__init__(*args, **kwargs)
        owners = account_owners()
        if account.owner_id is not None:
            # The current owner stays a choice even when they no longer could be given an account (an
            # owner who left), or the form could not be saved without changing the owner.
            owners = User.objects.filter(Q(pk__in=owners.values("pk")) | Q(pk=account.owner_id)).order_by(
                "full_name", "email"
            )
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = owners
        if not may_reassign:
            # A disabled field keeps its initial value whatever is posted: only leaders and admins reassign.
            self.fields["owner"].disabled = True
            self.fields["owner"].help_text = _("Only CS leaders and admins give an account to another owner.")
        cast(forms.ModelChoiceField, self.fields["segment"]).queryset = Segment.objects.order_by(
            "tier", "name"
        )

    def clean_domain(self) -> str:
        try:
            return clean_domain(self.cleaned_data["domain"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["domain"]) from None

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("customer_since") is None:
            cleaned.pop("customer_since", None)  # the service keeps the day it has
        return cleaned


class TeamMemberForm(forms.Form):
    """Add someone to an account's team."""

    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    role = forms.ChoiceField(label=_("Role on the team"), choices=TeamRole.choices, initial=TeamRole.CSM)

    def __init__(self, *args, account: Account, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = (
            User.objects.filter(is_active=True)
            .exclude(pk=account.owner_id or 0)
            .exclude(account_teams__account=account)
            .order_by("full_name", "email")
        )


class NewAccountForm(forms.Form):
    """Add a customer company from the portfolio; accounts.services.create_account validates and writes.

    The parent is named by its exact name or external ID (a list of every account would not fit a
    page); the owner is the person creating it unless they may give accounts to others.
    """

    name = forms.CharField(label=_("Name"), max_length=200)
    domain = forms.CharField(label=_("Domain"), required=False, max_length=253)
    external_id = forms.CharField(
        label=_("External ID"),
        required=False,
        max_length=128,
        help_text=_("The account's ID in your CRM or product (Segment groupId)."),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=User.objects.none(), empty_label=_("No owner")
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"), required=False, queryset=Segment.objects.none(), empty_label="—"
    )
    engagement_model = forms.ChoiceField(
        label=_("Engagement model"), choices=EngagementModel.choices, initial=EngagementModel.HYBRID
    )
    customer_since = forms.DateField(
        label=_("Customer since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("If it became a customer before today: health counts its tenure from this day."),
    )
    parent = forms.CharField(
        label=_("Parent company"),
        required=False,
        max_length=200,
        help_text=_("The parent account's exact name or external ID, if it has one."),
    )
    same_domain_ok = forms.BooleanField(
        label=_("Another account has this domain: create this one anyway (e.g. a subsidiary)"),
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, actor: User, may_reassign: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        owner.queryset = account_owners()
        if may_reassign:
            owner.initial = actor.pk if account_owners().filter(pk=actor.pk).exists() else None
        else:
            # A disabled field keeps its initial value whatever is posted: the creator owns it.
            owner.queryset = User.objects.filter(pk=actor.pk)
            owner.initial = actor.pk
            owner.disabled = True
            owner.help_text = _("You own the accounts you add; CS leaders and admins can hand them on.")
        cast(forms.ModelChoiceField, self.fields["segment"]).queryset = Segment.objects.order_by(
            "tier", "name"
        )

    def clean_domain(self) -> str:
        try:
            return clean_domain(self.cleaned_data["domain"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["domain"]) from None

    def clean_parent(self) -> Account | None:
        wanted = (self.cleaned_data.get("parent") or "").strip()
        if not wanted:
            return None
        readable = Account.objects.filter(readable_accounts_q(self.actor))
        by_external_id = readable.filter(external_id=wanted).first()
        if by_external_id is not None:
            return by_external_id
        by_name = list(readable.filter(name__iexact=wanted)[:2])
        if not by_name:
            raise ValidationError(_("No account you can see has this name or external ID."))
        if len(by_name) > 1:
            raise ValidationError(_("Several accounts have this name: give the parent's external ID."))
        return by_name[0]

    def clean(self):
        cleaned = super().clean() or {}
        domain = cleaned.get("domain")
        if domain and not cleaned.get("same_domain_ok") and Account.objects.filter(domain=domain).exists():
            # Not refused by the service (a subsidiary may share its parent's domain), but usually a
            # duplicate: ask once, and show the box that says "yes, another one".
            self.fields["same_domain_ok"].widget = forms.CheckboxInput()
            self.add_error(
                "domain",
                _("Another account already uses this domain. Tick the box below to add this one anyway."),
            )
        return cleaned


class NewContactForm(forms.Form):
    """Add a person to an account; accounts.services.create_contact validates and writes."""

    name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("Email address"), required=False, max_length=254)
    title = forms.CharField(label=_("Job title"), required=False, max_length=200)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=50)
    roles = forms.MultipleChoiceField(
        label=_("Roles"), required=False, choices=ContactRole.choices, widget=forms.CheckboxSelectMultiple
    )
    external_id = forms.CharField(
        label=_("External ID"),
        required=False,
        max_length=128,
        help_text=_("The person's ID in your product (Segment userId)."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("The account's")), *settings.LANGUAGES],
        help_text=_("The language of the automated messages this person gets."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        help_text=_("An IANA name such as Asia/Tokyo; no journey email reaches them at night there."),
    )

    def clean_time_zone(self) -> str:
        from touchpoint.accounts.services import clean_time_zone

        try:
            return clean_time_zone(self.cleaned_data.get("time_zone"))
        except ValidationError as error:
            raise ValidationError(error.message_dict["time_zone"]) from None


class SaveViewForm(forms.Form):
    """Save the portfolio's current filters and sort under a name."""

    name = forms.CharField(label=_("Name of the view"), max_length=80)
    shared = forms.BooleanField(label=_("Share with everyone"), required=False)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, may_share: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_share:
            del self.fields["shared"]


def portfolio_query(data: QueryDict) -> tuple[str, list[str]]:
    """The portfolio filters and sort in `data`, as a query string, keeping only values the filter
    form accepts today; and the labels of the filters it had to leave out (a segment since deleted,
    a sort column whose app is gone…)."""
    form = PortfolioFilterForm(data)
    form.is_valid()
    kept = QueryDict(mutable=True)
    dropped: list[str] = []
    for name in data:
        if name not in form.fields:
            if name != "page":
                dropped.append(name)
            continue
        if name in form.errors:
            dropped.append(str(form.fields[name].label or name))
            continue
        values = [value for value in data.getlist(name) if value != ""]
        if values:
            kept.setlist(name, values)
    return kept.urlencode(), dropped
