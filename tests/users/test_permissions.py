"""The one permission check: rules declared by each app, the role groups that follow them, the helpers."""

from __future__ import annotations

import pytest
import rules
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.template import Context, Template
from django.test import RequestFactory

from tests.factories import AccountFactory, ContactFactory
from touchpoint.accounts.models import Account
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.users.models import SiteSettings
from touchpoint.users.permissions import can, require
from touchpoint.users.roles import Role
from touchpoint.users.services import role_grants, sync_role_groups

pytestmark = pytest.mark.django_db


def test_every_app_declares_its_own_permissions():
    declared = set(rules.permissions.permissions)
    for perm in (
        "accounts.change_account",
        "accounts.add_accountteammember",
        "revenue.change_subscription",
        "health.change_scorecard",
        "usage.add_source",
        "integrations.add_importjob",
        "success.view_lifecyclephase",
        "users.change_sitesettings",
    ):
        assert perm in declared, perm


def test_the_role_groups_hold_what_the_apps_grant():
    sync_role_groups()
    for role in Role:
        group = Group.objects.get(name=role.value)
        held = {
            f"{app}.{codename}"
            for app, codename in group.permissions.values_list("content_type__app_label", "codename")
        }
        existing = {
            f"{app}.{codename}"
            for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
        }
        assert held == role_grants(role) & existing, role
    csm = {
        f"{a}.{c}"
        for a, c in Group.objects.get(name="csm").permissions.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert "accounts.change_account" in csm and "accounts.delete_account" not in csm
    assert "revenue.change_churnreason" not in csm


def test_a_group_drifted_by_hand_is_put_back_after_migrate():
    viewer = Group.objects.get(name=Role.VIEWER)
    viewer.permissions.add(Permission.objects.get(codename="delete_account"))
    sync_role_groups()
    assert not viewer.permissions.filter(codename="delete_account").exists()


@pytest.mark.parametrize("read_all", [True, False])
def test_the_list_filter_agrees_with_the_rule(book, read_all):
    SiteSettings(csms_read_all_books=read_all).save()
    AccountFactory(owner=book.outsider)
    AccountFactory(owner=None)
    for person in (book.owner, book.teammate, book.outsider, book.viewer, book.leader, book.admin):
        listed = set(Account.objects.filter(readable_accounts_q(person)).values_list("pk", flat=True))
        allowed = {a.pk for a in Account.objects.all() if person.has_perm("accounts.view_account", a)}
        assert listed == allowed, (person, read_all)


def test_the_setting_decides_whether_csms_read_other_books(book):
    contact = ContactFactory(account=book.account)
    assert book.outsider.has_perm("accounts.view_account", book.account)
    SiteSettings(csms_read_all_books=False).save()
    assert not book.outsider.has_perm("accounts.view_account", book.account)
    assert not book.outsider.has_perm("accounts.view_contact", contact)
    assert book.teammate.has_perm("accounts.view_account", book.account)
    assert book.viewer.has_perm("accounts.view_account", book.account)  # viewers read every book


def test_require_raises_permission_denied_and_can_answers(book):
    require(book.owner, "accounts.change_account", book.account)
    with pytest.raises(PermissionDenied):
        require(book.outsider, "accounts.change_account", book.account)
    assert can(book.leader, "accounts.delete_account", book.account)
    assert not can(book.owner, "accounts.delete_account", book.account)
    assert not can(None, "accounts.view_account")


def test_the_template_tag_asks_the_same_check(book):
    template = Template('{% load permissions %}{% can "accounts.change_account" account as ok %}{{ ok }}')
    for person, expected in ((book.teammate, "True"), (book.outsider, "False")):
        request = RequestFactory().get("/")
        request.user = person
        assert template.render(Context({"request": request, "account": book.account})) == expected


def test_admins_change_the_setting_in_the_django_admin(book):
    from tests.conftest import logged_in_client

    SiteSettings().save()  # the row the migration makes (a flushing test may have dropped it)
    client = logged_in_client(book.admin)
    response = client.post(
        "/admin/users/sitesettings/1/change/", {"silent_days_high_touch": 30, "silent_days_hybrid": 60}
    )
    assert response.status_code == 302
    assert SiteSettings.current().csms_read_all_books is False
    assert logged_in_client(book.leader).get("/admin/users/sitesettings/1/change/").status_code == 302


def test_the_class_based_view_mixin_signs_in_then_checks_the_object(book):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse
    from django.views import View

    from touchpoint.users.permissions import PermissionRequiredMixin

    class EditAccount(PermissionRequiredMixin, View):
        permission = "accounts.change_account"

        def get_permission_object(self):
            return book.account

        def get(self, request):
            return HttpResponse("edited")

    view = EditAccount.as_view()
    request = RequestFactory().get("/edit/")
    request.user = AnonymousUser()
    assert view(request).status_code == 302
    request.user = book.teammate
    assert view(request).content == b"edited"
    request.user = book.outsider
    with pytest.raises(PermissionDenied):
        view(request)
