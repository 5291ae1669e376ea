"""The home page shows the sections the apps register, each over the viewer's books."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, UserFactory
from touchpoint.accounts.models import Account
from touchpoint.home.sections import home_sections
from touchpoint.home.selectors import scope_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def names_section():
    home_sections.add(
        key="test-names",
        title="Accounts of the book",
        template="home/test_names.html",
        items=lambda scope: {
            "items": list(Account.objects.filter(scope.accounts_q()).values_list("name", flat=True))
        },
        order=999,
    )
    yield
    home_sections.remove("test-names")


def test_signing_in_lands_on_my_day(client, csm):
    client.force_login(csm)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("my-day")


def test_a_csm_sees_their_own_book_and_a_leader_everyone(
    client, csm, leader, names_section, settings, tmp_path
):
    template_dir = tmp_path / "home"
    template_dir.mkdir()
    (template_dir / "test_names.html").write_text(
        "{% for name in data.items %}<b>{{ name }}</b>{% endfor %}"
    )
    settings.TEMPLATES[0]["DIRS"] = [tmp_path]
    AccountFactory(name="Mine", owner=csm)
    AccountFactory(name="Theirs", owner=UserFactory())
    client.force_login(csm)
    page = client.get(reverse("my-day")).content.decode()
    assert "<b>Mine</b>" in page and "<b>Theirs</b>" not in page
    client.force_login(leader)
    page = client.get(reverse("my-day")).content.decode()
    assert "<b>Mine</b>" in page and "<b>Theirs</b>" in page


def test_an_empty_section_says_so(client, csm, names_section, settings, tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "test_names.html").write_text("{{ data.items }}")
    settings.TEMPLATES[0]["DIRS"] = [tmp_path]
    client.force_login(csm)
    assert "Nothing here today." in client.get(reverse("my-day")).content.decode()
    assert scope_for(csm).owner_ids == frozenset({csm.pk})
