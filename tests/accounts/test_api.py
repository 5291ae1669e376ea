import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api, assert_api_error
from tests.factories import AccountFactory, ContactFactory, PhaseFactory, SegmentFactory, UserFactory
from touchpoint.accounts import services
from touchpoint.accounts.models import Account, Contact, TimelineEntry
from touchpoint.users.models import ApiKey
from touchpoint.users.roles import Role
from touchpoint.users.services import create_api_key, revoke_api_key

pytestmark = pytest.mark.django_db


# --- Authentication ---------------------------------------------------------------------------


def test_no_key_is_401_in_the_error_shape(account):
    assert_api_error(Api(None).get("/accounts"), 401)


@pytest.mark.parametrize("key", ["nonsense", "tp_abc_def", "tp_123456789012_wrongsecret"])
def test_bad_keys_are_401(account, key):
    assert_api_error(Api(key).get("/accounts"), 401)


def test_revoked_key_is_401(csm, account):
    api_key, raw = create_api_key(user=csm)
    assert Api(raw).get("/accounts").status_code == 200
    revoke_api_key(api_key=api_key)
    assert_api_error(Api(raw).get("/accounts"), 401)


def test_key_of_a_deactivated_user_is_401(csm, account):
    raw = create_api_key(user=csm)[1]
    csm.is_active = False
    csm.save()
    assert_api_error(Api(raw).get("/accounts"), 401)


def test_keys_are_stored_hashed(csm):
    api_key, raw = create_api_key(user=csm)
    secret = raw.split("_", 2)[2]
    stored = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert all(secret not in str(value) for value in stored.values())


def test_a_logged_in_browser_session_may_read_the_api(csm_client, account):
    assert csm_client.get("/api/v1/accounts").status_code == 200


def test_openapi_and_docs_answer():
    client = Client()
    spec = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/accounts",
        "/api/v1/accounts/{account_id}",
        "/api/v1/accounts/{account_id}/contacts",
        "/api/v1/accounts/{account_id}/timeline",
        "/api/v1/accounts/{account_id}/notes",
    ):
        assert path in spec["paths"], path
    assert client.get("/api/v1/docs").status_code == 200


# --- Accounts ---------------------------------------------------------------------------------


def test_list_accounts_with_filters(api, csm):
    other = UserFactory(role=Role.CSM)
    smb = SegmentFactory(name="SMB", tier=3)
    phase = PhaseFactory(name="Renewal")
    parent = AccountFactory(name="Parent Holdings", owner=other, segment=None)
    a = AccountFactory(
        name="Alpha",
        owner=csm,
        segment=smb,
        engagement_model="low",
        phase=phase,
        framework=phase.framework,
        external_id="crm-a",
        parent=parent,
    )
    AccountFactory(
        name="Beta", owner=other, engagement_model="high", segment=SegmentFactory(name="Enterprise")
    )

    def names(**params):
        body = api.get("/accounts", **params).json()
        assert body["count"] == len(body["items"])
        return [item["name"] for item in body["items"]]

    assert names() == ["Alpha", "Beta", "Parent Holdings"]
    assert names(search="alp") == ["Alpha"]
    assert names(external_id="crm-a") == ["Alpha"]
    assert names(owner=csm.pk) == ["Alpha"]
    assert names(segment=smb.pk) == ["Alpha"]
    assert names(engagement_model="high") == ["Beta"]
    assert names(phase=phase.pk) == ["Alpha"]
    assert names(parent=parent.pk) == ["Alpha"]
    assert names(order="-name") == ["Parent Holdings", "Beta", "Alpha"]
    item = api.get("/accounts", external_id="crm-a").json()["items"][0]
    assert item["parent"] == {"id": parent.pk, "name": "Parent Holdings"}
    assert item["owner"]["email"] == csm.email
    # The phase moved to the success app: GET /accounts/{id}/placement.
    placement = api.get(f"/accounts/{item['id']}/placement").json()
    assert placement["phase"]["name"] == "Renewal"
    assert item["id"] == a.pk


def test_list_accounts_pages_with_limit_and_offset(api, csm):
    for index in range(7):
        AccountFactory(name=f"Account {index}", owner=csm)
    page = api.get("/accounts", limit=3, offset=3).json()
    assert page["count"] == 7
    assert [item["name"] for item in page["items"]] == ["Account 3", "Account 4", "Account 5"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": -1}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -5}, "offset"),
        ({"owner": "abc"}, "owner"),
        ({"engagement_model": "medium"}, "engagement_model"),
        ({"order": "revenue"}, "order"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(api, params, field):
    assert_api_error(api.get("/accounts", **params), 422, field)


def test_account_list_query_count_is_flat(api, csm, django_assert_max_num_queries):
    parent = AccountFactory(owner=csm)
    phase = PhaseFactory(name="Adoption")
    AccountFactory.create_batch(30, owner=csm, parent=parent, phase=phase, framework=phase.framework)
    # key, key use, the role's permissions (2), the page, the count, whether CSMs read every book, and
    # the rate limit's counter (its upsert and the clearing of past minutes): none grows with the rows
    with django_assert_max_num_queries(8):
        response = api.get("/accounts", limit=100)
    assert len(response.json()["items"]) == 31


def test_create_get_patch_and_delete_an_account(api, csm, leader):
    segment = SegmentFactory(name="Enterprise", tier=1)
    created = api.send(
        "post",
        "/accounts",
        {
            "name": "Initech",
            "domain": "initech.example",
            "owner": csm.pk,
            "segment": segment.pk,
            "engagement_model": "high",
            "external_id": "sf-001",
        },
    )
    assert created.status_code == 201, created.content
    account_id = created.json()["id"]
    assert api.get(f"/accounts/{account_id}").json()["segment"] == {"id": segment.pk, "name": "Enterprise"}

    # The owner (a CSM) changes their account, but handing it to someone else is a leader's action.
    refused = api.send("patch", f"/accounts/{account_id}", {"owner": leader.pk, "domain": "initech.test"})
    assert_api_error(refused, 403)
    assert Account.objects.get(pk=account_id).owner == csm
    patched = api.send("patch", f"/accounts/{account_id}", {"domain": "initech.test"})
    assert patched.status_code == 200
    assert patched.json()["owner"]["id"] == csm.pk and patched.json()["name"] == "Initech"
    assert api.send("patch", f"/accounts/{account_id}", {"segment": None}).json()["segment"] is None
    leader_api = Api(create_api_key(user=leader)[1])
    handed = leader_api.send("patch", f"/accounts/{account_id}", {"owner": leader.pk})
    assert handed.status_code == 200 and handed.json()["owner"]["id"] == leader.pk

    kinds = list(TimelineEntry.objects.filter(account_id=account_id).values_list("kind", flat=True))
    assert sorted(kinds) == ["account_changed", "account_changed", "account_changed", "account_created"]

    assert api.send("delete", f"/accounts/{account_id}").status_code == 403  # a CSM may not delete
    assert leader_api.send("delete", f"/accounts/{account_id}").status_code == 204
    assert_api_error(api.get(f"/accounts/{account_id}"), 404)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": 5}, 422, "name"),
        ({"name": "x" * 201}, 422, "name"),
        ({"name": "A", "domain": "not a domain"}, 422, "domain"),
        ({"name": "A", "engagement_model": "medium"}, 422, "engagement_model"),
        ({"name": "A", "owner": 999999}, 422, "owner"),
        ({"name": "A", "segment": 999999}, 422, "segment"),
        ({"name": "A", "parent": "x"}, 422, "parent"),
        ({"name": "A", "colour": "red"}, 422, "colour"),
    ],
)
def test_bad_account_bodies_name_the_field_and_write_nothing(api, body, status, field):
    assert_api_error(api.send("post", "/accounts", body), status, field)
    assert not Account.objects.exists()


@pytest.mark.parametrize("raw", ["{bad json", "", "[1, 2]", "null", '"text"'])
def test_malformed_bodies_are_4xx_never_500(api, raw):
    response = api.send("post", "/accounts", raw=raw)
    assert response.status_code in (400, 422)
    assert_api_error(response, response.status_code)


def test_malformed_json_is_400(api):
    assert_api_error(api.send("post", "/accounts", raw="{bad json"), 400)


def test_duplicate_external_id_is_409(api):
    api.send("post", "/accounts", {"name": "One", "external_id": "crm-1"})
    assert_api_error(
        api.send("post", "/accounts", {"name": "Two", "external_id": "crm-1"}), 409, "external_id"
    )


def test_parent_cycle_is_422(api, csm):
    parent = AccountFactory(owner=csm)
    child = AccountFactory(owner=csm, parent=parent)
    assert_api_error(api.send("patch", f"/accounts/{parent.pk}", {"parent": child.pk}), 422, "parent")


def test_patching_name_to_null_is_422(api, account):
    assert_api_error(api.send("patch", f"/accounts/{account.pk}", {"name": None}), 422, "name")


def test_unknown_account_is_404_everywhere(api):
    assert_api_error(api.get("/accounts/999999"), 404)
    assert_api_error(api.send("patch", "/accounts/999999", {"name": "x"}), 404)
    assert_api_error(api.get("/accounts/999999/contacts"), 404)
    assert_api_error(api.get("/accounts/999999/timeline"), 404)
    assert_api_error(api.send("post", "/accounts/999999/notes", {"body": "x"}), 404)


def test_viewer_reads_but_every_write_is_403(viewer_api, account):
    contact = ContactFactory(account=account)
    assert viewer_api.get("/accounts").status_code == 200
    assert_api_error(viewer_api.send("post", "/accounts", {"name": "Nope"}), 403)
    assert_api_error(viewer_api.send("patch", f"/accounts/{account.pk}", {"name": "Nope"}), 403)
    assert_api_error(viewer_api.send("delete", f"/accounts/{account.pk}"), 403)
    assert_api_error(viewer_api.send("post", f"/accounts/{account.pk}/contacts", {"name": "Nope"}), 403)
    assert_api_error(viewer_api.send("patch", f"/contacts/{contact.pk}", {"name": "Nope"}), 403)
    assert_api_error(viewer_api.send("post", f"/accounts/{account.pk}/notes", {"body": "Nope"}), 403)
    assert Account.objects.get(pk=account.pk).name != "Nope"
    assert not TimelineEntry.objects.filter(kind="note").exists()


# --- Contacts ---------------------------------------------------------------------------------


def test_contacts_crud_with_roles(api, account, leader):
    created = api.send(
        "post",
        f"/accounts/{account.pk}/contacts",
        {"name": "Somchai Jaidee", "email": "somchai@customer.example", "roles": ["user", "champion"]},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["roles"] == ["champion", "user"] and body["account"]["id"] == account.pk
    contact_id = body["id"]
    patched = api.send("patch", f"/contacts/{contact_id}", {"roles": ["billing"], "title": "CFO"})
    assert patched.json()["roles"] == ["billing"] and patched.json()["title"] == "CFO"
    assert api.get(f"/contacts/{contact_id}").json()["name"] == "Somchai Jaidee"
    assert_api_error(api.send("delete", f"/contacts/{contact_id}"), 403)  # a CSM may not delete
    assert Api(create_api_key(user=leader)[1]).send("delete", f"/contacts/{contact_id}").status_code == 204
    assert not Contact.objects.exists()


def test_contact_filters(api, account):
    ContactFactory(account=account, name="Anna Champion", roles=["champion"])
    ContactFactory(
        account=account,
        name="Boris Billing",
        roles=["billing"],
        email="boris@x.example",
        external_id="user-42",
    )
    ContactFactory(name="Elsewhere Person")

    def names(path, **params):
        return [item["name"] for item in api.get(path, **params).json()["items"]]

    assert names(f"/accounts/{account.pk}/contacts") == ["Anna Champion", "Boris Billing"]
    assert names(f"/accounts/{account.pk}/contacts", role="champion") == ["Anna Champion"]
    assert names(f"/accounts/{account.pk}/contacts", search="boris") == ["Boris Billing"]
    assert names("/contacts", account=account.pk, role="billing") == ["Boris Billing"]
    assert names("/contacts", email="BORIS@x.example") == ["Boris Billing"]
    assert names("/contacts", external_id="user-42") == ["Boris Billing"]
    assert len(names("/contacts")) == 3


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "a@b.example"}, 422, "name"),
        ({"name": "A", "email": "nope"}, 422, "email"),
        ({"name": "A", "roles": ["boss"]}, 422, "roles.0"),
        ({"name": "A", "roles": "champion"}, 422, "roles"),
    ],
)
def test_bad_contact_bodies(api, account, body, status, field):
    assert_api_error(api.send("post", f"/accounts/{account.pk}/contacts", body), status, field)
    assert not Contact.objects.exists()


def test_same_email_twice_in_an_account_is_409(api, account):
    api.send("post", f"/accounts/{account.pk}/contacts", {"name": "A", "email": "a@x.example"})
    assert_api_error(
        api.send("post", f"/accounts/{account.pk}/contacts", {"name": "B", "email": "a@x.example"}),
        409,
        "email",
    )


def test_contact_list_query_count_is_flat(api, account, django_assert_max_num_queries):
    for _ in range(30):
        ContactFactory(account=account, roles=["user", "billing"])
    # as before, plus the role's permissions (2 queries) and whether CSMs read every book: none per contact
    with django_assert_max_num_queries(9):
        assert len(api.get(f"/accounts/{account.pk}/contacts", limit=100).json()["items"]) == 30
    with django_assert_max_num_queries(8):
        assert len(api.get("/contacts", limit=100).json()["items"]) == 30


# --- Timeline and notes -----------------------------------------------------------------------


def test_notes_land_on_the_timeline_and_the_timeline_pages_with_a_cursor(api, csm, account):
    for index in range(5):
        response = api.send("post", f"/accounts/{account.pk}/notes", {"body": f"Note {index}"})
        assert response.status_code == 201
    assert response.json()["title"] == "Note 4" and response.json()["actor"]["email"] == csm.email
    first = api.get(f"/accounts/{account.pk}/timeline", limit=2).json()
    assert first["count"] == 5 and [i["title"] for i in first["items"]] == ["Note 4", "Note 3"]
    second = api.get(f"/accounts/{account.pk}/timeline", limit=2, after=first["next"]).json()
    assert [i["title"] for i in second["items"]] == ["Note 2", "Note 1"]
    third = api.get(f"/accounts/{account.pk}/timeline", limit=2, after=second["next"]).json()
    assert [i["title"] for i in third["items"]] == ["Note 0"] and third["next"] is None


def test_timeline_filters_by_kind_and_rejects_a_forged_cursor(api, csm, account):
    services.log_engagement(account=account, kind="call", subject="Check-in", actor=csm)
    services.log_engagement(account=account, kind="note", body="Thought", actor=csm)
    calls = api.get(f"/accounts/{account.pk}/timeline", kind="call").json()
    assert [i["kind"] for i in calls["items"]] == ["call"] and calls["items"][0]["kind_label"] == "Call"
    assert_api_error(api.get(f"/accounts/{account.pk}/timeline", after="garbage"), 422, "after")


def test_system_entries_read_in_the_callers_language(api, csm):
    account = services.create_account(name="Lang Co", actor=csm)
    entries = api.client.get(
        f"/api/v1/accounts/{account.pk}/timeline", HTTP_ACCEPT_LANGUAGE="ja", **api.headers
    ).json()["items"]
    assert entries[0]["kind"] == "account_created" and entries[0]["title"] != "Account created"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({}, "body"),
        ({"body": "x" * 20001}, "body"),
        ({"body": "x", "occurred_at": "yesterday"}, "occurred_at"),
    ],
)
def test_bad_notes_are_422(api, account, body, field):
    assert_api_error(api.send("post", f"/accounts/{account.pk}/notes", body), 422, field)
    assert not TimelineEntry.objects.filter(kind="note").exists()


def test_log_a_meeting_with_contacts(api, account):
    contact = ContactFactory(account=account, name="Yuki")
    response = api.send(
        "post",
        f"/accounts/{account.pk}/engagements",
        {
            "kind": "meeting",
            "subject": "QBR",
            "duration_minutes": 60,
            "contacts": [contact.pk],
            "occurred_at": "2026-05-01T10:00:00+09:00",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "meeting" and body["data"] == {"duration_minutes": 60, "contacts": ["Yuki"]}
    assert body["occurred_at"].startswith("2026-05-01T01:00:00")


def test_meeting_with_someone_elses_contact_is_422(api, account):
    stranger = ContactFactory()
    assert_api_error(
        api.send(
            "post",
            f"/accounts/{account.pk}/engagements",
            {"kind": "meeting", "subject": "QBR", "contacts": [stranger.pk]},
        ),
        422,
        "contacts",
    )
    assert_api_error(
        api.send(
            "post",
            f"/accounts/{account.pk}/engagements",
            {"kind": "meeting", "subject": "QBR", "contacts": [999999]},
        ),
        422,
        "contacts",
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
account_fields = st.sampled_from(
    [
        "name",
        "domain",
        "external_id",
        "owner",
        "segment",
        "parent",
        "engagement_model",
        "phase",
        "framework",
        "other",
    ]
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(body=st.dictionaries(account_fields, json_values, max_size=6) | json_values)
def test_no_account_body_makes_a_500(api, body):
    response = api.send("post", "/accounts", raw=json.dumps(body))
    assert response.status_code in (201, 400, 409, 422), response.content
    assert set(response.json()) >= ({"id"} if response.status_code == 201 else {"detail", "errors"})


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(raw=st.binary(max_size=60))
def test_no_byte_string_makes_a_500(api, account, raw):
    response = api.client.post(
        f"/api/v1/accounts/{account.pk}/notes", raw, content_type="application/json", **api.headers
    )
    assert response.status_code in (201, 400, 422), response.content


def test_a_nul_character_is_refused_not_a_500(api, account):
    # PostgreSQL cannot store NUL in text; SQLite can. Both must answer the same 422.
    assert_api_error(api.send("post", "/accounts", {"name": "Bad\u0000Name"}), 422, "name")
    assert_api_error(api.send("post", f"/accounts/{account.pk}/notes", {"body": "a\u0000b"}), 422, "body")
