import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from touchpoint.users.roles import Role


@pytest.mark.django_db
def test_every_role_group_exists_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "can_view", "can_add_note", "can_delete_account"),
    [
        (Role.ADMIN, True, True, True),
        (Role.CS_LEADER, True, True, True),
        (Role.CSM, True, True, False),
        (Role.VIEWER, True, False, False),
    ],
)
def test_role_permissions(role, can_view, can_add_note, can_delete_account):
    user = UserFactory(role=role)
    assert user.has_perm("accounts.view_account") is can_view
    assert user.has_perm("accounts.add_engagement") is can_add_note
    assert user.has_perm("accounts.delete_account") is can_delete_account
    assert user.role == role


@pytest.mark.django_db
def test_only_admin_manages_users():
    assert UserFactory(role=Role.ADMIN).has_perm("users.add_user")
    assert not UserFactory(role=Role.CS_LEADER).has_perm("users.add_user")
