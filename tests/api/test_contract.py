"""The API contract (touchpoint.api_contract): what the served OpenAPI declares, who gets 401, and how
input out of the databases' range is answered (422 naming the field, never a 500)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import Api, assert_api_error
from tests.factories import AccountFactory, ContactFactory
from touchpoint.api_contract import BIGINT_MAX, INTEGER_MAX
from touchpoint.users.services import create_api_key, revoke_api_key

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


# --- The served OpenAPI -----------------------------------------------------------------------


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(openapi: dict):
    for path, item in openapi["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", path, item[method]


def _resolve(openapi: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _missing_answers(openapi: dict, path: str, operation: dict) -> list[str]:
    """What an operation can answer but does not declare, derived from the operation itself."""
    responses = operation["responses"]
    missing = []
    needed = {"401": bool(operation.get("security")), "403": bool(operation.get("security"))}
    needed["422"] = bool(operation.get("parameters") or operation.get("requestBody"))
    needed["404"] = "{" in path
    needed["400"] = bool(operation.get("requestBody"))
    missing += [
        f"{status} not declared" for status, need in needed.items() if need and status not in responses
    ]
    for status, response in responses.items():
        content = response.get("content", {}).get("application/json")
        if status == "204" or status == "414":  # no body: deleted; refused by the HTTP server
            continue
        if content is None or "schema" not in content:
            missing.append(f"{status} has no schema")
            continue
        schema = _resolve(openapi, content["schema"])
        if schema.get("type") == "object" and not schema.get("properties"):
            missing.append(f"{status} is a bare object, not a typed schema")
        if status.startswith("4") and content["schema"].get("$ref", "").rsplit("/", 1)[-1] != "ErrorOut":
            missing.append(f"{status} is not the error shape")
    return missing


def test_every_operation_declares_a_typed_schema_for_every_status_it_can_answer(openapi):
    operations = list(_operations(openapi))
    assert len(operations) >= 24
    problems = {
        name: found for name, path, op in operations if (found := _missing_answers(openapi, path, op))
    }
    assert problems == {}


def test_the_check_catches_an_operation_with_a_bare_dict_or_a_missing_status(openapi):
    bare = {
        "security": [{"ApiKeyAuth": []}],
        "parameters": [{"in": "path", "name": "account_id"}],
        "responses": {"200": {"content": {"application/json": {"schema": {"type": "object"}}}}},
    }
    assert _missing_answers(openapi, "/api/v1/things/{account_id}", bare) == [
        "401 not declared",
        "403 not declared",
        "422 not declared",
        "404 not declared",
        "200 is a bare object, not a typed schema",
    ]


def test_lists_are_pages_with_items_and_count_bounded_by_the_setting(openapi):
    for name, _path, operation in _operations(openapi):
        names = {p["name"]: p for p in operation.get("parameters", [])}
        if "offset" in names:
            assert names["limit"]["schema"]["maximum"] == settings.API_MAX_PAGE_SIZE, name
            schema = _resolve(openapi, operation["responses"]["200"]["content"]["application/json"]["schema"])
            assert set(schema["required"]) == {"items", "count"}, name


def test_an_account_name_must_say_something_in_the_schema_too(openapi):
    name = openapi["components"]["schemas"]["AccountIn"]["properties"]["name"]
    assert (name["minLength"], name["maxLength"], name["pattern"]) == (1, 200, r"\S")


def test_a_body_over_the_upload_limit_is_413_in_the_error_shape(admin_user):
    api = Api(create_api_key(user=admin_user)[1])
    body = b'{"name": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
    assert_api_error(api.send("post", "/accounts", raw=body), 413)


# --- Authentication -----------------------------------------------------------------------------


def test_a_write_with_no_key_a_wrong_key_or_a_revoked_key_is_401_not_a_csrf_403(csm):
    api_key, raw = create_api_key(user=csm)
    revoke_api_key(api_key=api_key)
    for header in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer tp_nothing_here"},
        {"HTTP_AUTHORIZATION": f"Bearer {raw}"},
    ):
        client = Client(enforce_csrf_checks=True)  # as a real request: Django's test client skips CSRF
        response = client.post(
            "/api/v1/accounts", {"name": "Acme"}, content_type="application/json", **header
        )
        assert_api_error(response, 401)


def test_a_wrong_key_is_401_even_beside_a_signed_in_session(csm):
    client = Client(enforce_csrf_checks=True)
    client.force_login(csm)
    response = client.post(
        "/api/v1/accounts",
        {"name": "Acme"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer nope",
    )
    assert_api_error(response, 401)


def test_a_browser_session_write_still_needs_its_csrf_token(csm):
    client = Client(enforce_csrf_checks=True)
    client.force_login(csm)
    refused = client.post("/api/v1/accounts", {"name": "Acme"}, content_type="application/json")
    assert refused.status_code == 403
    assert client.get("/accounts/").status_code == 200  # a page with forms sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    made = client.post(
        "/api/v1/accounts", {"name": "Acme"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert made.status_code == 201, made.content


def test_a_valid_key_writes_without_csrf(csm):
    raw = create_api_key(user=csm)[1]
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/accounts",
        {"name": "Acme"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 201


# --- Out of range: 422 naming the field ----------------------------------------------------------

TOO_BIG = BIGINT_MAX + 1


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/accounts", {"owner": TOO_BIG}, "owner"),
        ("/accounts", {"segment": 10**30}, "segment"),
        ("/accounts", {"parent": -1}, "parent"),
        ("/accounts", {"offset": TOO_BIG}, "offset"),
        ("/accounts", {"limit": settings.API_MAX_PAGE_SIZE + 1}, "limit"),
        ("/accounts", {"search": "a\x00b"}, "search"),
        ("/contacts", {"account": TOO_BIG}, "account"),
        ("/contacts", {"email": "\x00"}, "email"),
        ("/subscriptions", {"account": TOO_BIG}, "account"),
        ("/subscriptions", {"offset": -1}, "offset"),
        ("/renewals", {"owner": TOO_BIG}, "owner"),
        ("/renewals/forecast", {"segment": TOO_BIG}, "segment"),
        ("/metrics/revenue", {"owner": TOO_BIG}, "owner"),
        ("/metrics/revenue", {"from": "0000-01"}, "from"),
        ("/metrics/revenue", {"to": "9999-12"}, "to"),
        (f"/accounts/{TOO_BIG}", {}, "account_id"),
        (f"/accounts/{TOO_BIG}/contacts", {}, "account_id"),
        (f"/accounts/{TOO_BIG}/timeline", {}, "account_id"),
        (f"/accounts/{TOO_BIG}/health", {}, "account_id"),
        (f"/accounts/{TOO_BIG}/usage", {}, "account_id"),
        (f"/accounts/{TOO_BIG}/success-plan", {}, "account_id"),
        (f"/contacts/{TOO_BIG}", {}, "contact_id"),
        (f"/subscriptions/{TOO_BIG}", {}, "subscription_id"),
        ("/accounts/0", {}, "account_id"),
        ("/accounts/1/timeline", {"after": f"2026-01-01T00:00:00+00:00~{TOO_BIG}"}, "after"),
        ("/accounts/1/timeline", {"after": "0001-01-01T00:00:00+05:00~1"}, "after"),
        ("/accounts/1/timeline", {"after": "2026-01-01T00:00:00~1"}, "after"),
        ("/success/funnel", {"segment": TOO_BIG}, "segment"),
        ("/success/funnel", {"owner": 10**30}, "owner"),
        ("/success/funnel", {"framework": "a\x00b"}, "framework"),
        ("/success/funnel", {"cohort": "2026-01\x00"}, "cohort"),
    ],
)
def test_a_read_out_of_range_is_422_naming_the_field(admin_api, path, params, field):
    AccountFactory(id=1)
    assert_api_error(admin_api.get(path, **params), 422, field)


@pytest.mark.parametrize("cohort", ["0000-01", "9999-12", "2026-13", "2026-1", "x" * 100_000])
def test_a_bad_funnel_cohort_is_422_naming_the_field(admin_api, cohort):
    from touchpoint.success.models import SuccessFramework

    SuccessFramework.objects.create(name="Contract funnel", key="contract-funnel")
    assert_api_error(
        admin_api.get("/success/funnel", framework="contract-funnel", cohort=cohort), 422, "cohort"
    )


def test_an_unknown_funnel_framework_is_404(admin_api):
    assert_api_error(admin_api.get("/success/funnel", framework="no-such-framework"), 404)
    assert_api_error(admin_api.get("/success/funnel", framework=str(TOO_BIG * 10)), 404)


@pytest.fixture
def ids(csm):
    account = AccountFactory(owner=csm)
    return {"account": account.pk, "contact": ContactFactory(account=account).pk}


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/accounts", {"name": ""}, "name"),
        ("post", "/accounts", {"name": "   "}, "name"),
        ("post", "/accounts", {"name": "x" * 201}, "name"),
        ("post", "/accounts", {"name": "A", "parent": TOO_BIG}, "parent"),
        ("post", "/accounts", {"name": "A", "owner": 2**64}, "owner"),
        ("post", "/accounts", {"name": "A", "segment": "7"}, "segment"),  # a string is not an id
        ("patch", "/accounts/{account}", {"phase": TOO_BIG}, "phase"),
        ("put", f"/accounts/{TOO_BIG}/success-plan", {"title": "P"}, "account_id"),
        ("put", "/accounts/{account}/success-plan", {"title": "P", "agreed_by": TOO_BIG}, "agreed_by"),
        ("put", "/accounts/{account}/success-plan", {"title": "P", "agreed_on": "0001-01-01"}, "agreed_on"),
        (
            "put",
            "/accounts/{account}/success-plan",
            {"title": "P", "objectives": [{"text": "T", "kpis": [{"name": "K", "target": "1e19"}]}]},
            "objectives.0.kpis.0.target",
        ),
        ("put", "/accounts/{account}/success-plan", {"title": "x" * 100_000}, "title"),
        ("patch", f"/accounts/{TOO_BIG}", {"name": "A"}, "account_id"),
        ("delete", f"/contacts/{TOO_BIG}", None, "contact_id"),
        ("post", "/accounts/{account}/contacts", {"name": "A", "email": "x" * 255}, "email"),
        ("post", "/accounts/{account}/engagements", {"kind": "call", "contacts": [TOO_BIG]}, "contacts.0"),
        (
            "post",
            "/accounts/{account}/engagements",
            {"kind": "call", "duration_minutes": TOO_BIG},
            "duration_minutes",
        ),
        (
            "post",
            "/accounts/{account}/notes",
            {"body": "x", "occurred_at": "0001-01-01T00:00:00+05:00"},
            "occurred_at",
        ),
        (
            "post",
            "/accounts/{account}/notes",
            {"body": "x", "occurred_at": "9999-12-31T23:59:59-05:00"},
            "occurred_at",
        ),
        ("post", "/accounts/{account}/notes", {"body": "x", "occurred_at": 0}, "occurred_at"),
        (
            "post",
            "/subscriptions",
            {"account": TOO_BIG, "product": "P", "mrr": "1", "started_on": "2026-01-01"},
            "account",
        ),
        (
            "post",
            "/subscriptions",
            {"account": "{account}", "product": "P", "mrr": "1", "started_on": "9999-12-31"},
            "started_on",
        ),
        (
            "post",
            "/subscriptions",
            {"account": "{account}", "product": "P", "mrr": "1", "started_on": "0001-01-01"},
            "started_on",
        ),
        (
            "post",
            "/subscriptions",
            {
                "account": "{account}",
                "product": "P",
                "mrr": "1",
                "started_on": "2026-01-01",
                "quantity": INTEGER_MAX + 1,
            },
            "quantity",
        ),
        (
            "post",
            "/subscriptions",
            {"account": "{account}", "product": "P", "mrr": "1e15", "started_on": "2026-01-01"},
            "mrr",
        ),
        (
            "post",
            "/subscriptions",
            {"account": "{account}", "product": "P", "mrr": "NaN", "started_on": "2026-01-01"},
            "mrr",
        ),
        (
            "post",
            "/subscriptions",
            {"account": "{account}", "product": " ", "mrr": "1", "started_on": "2026-01-01"},
            "product",
        ),
    ],
)
def test_a_write_out_of_range_is_422_naming_the_field(admin_api, ids, method, path, body, field):
    path = path.format(**ids)
    if body and body.get("account") == "{account}":
        body = {**body, "account": ids["account"]}
    assert_api_error(admin_api.send(method, path, body), 422, field)
