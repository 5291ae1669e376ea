"""Every page keeps to the Content-Security-Policy (no inline script, no on…= handler, no hx-on) and
tells browsers and proxies not to store what a signed-in person saw (Cache-Control: no-store)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import get_resolver

from tests.conftest import logged_in_client
from tests.web.test_reads_do_not_write import SKIP_PREFIXES, _fill, _walk, data  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

TAG = re.compile(r"<[a-zA-Z][^>]*>", re.DOTALL)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)
HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)


def inline_script_problems(html: str) -> list[str]:
    problems = []
    for attributes, body in SCRIPT.findall(html):
        if "src=" in attributes:
            continue
        if re.search(r"type=[\"']application/(ld\+)?json[\"']", attributes):
            continue  # a data block: browsers never run it
        problems.append(f"inline <script{attributes}>{body[:60]}")
    for tag in TAG.findall(html):
        if tag.lower().startswith("<script"):
            continue
        match = HANDLER.search(tag)
        if match:
            problems.append(f"{match.group(1)}= in {tag[:120]}")
    return problems


def test_the_checker_finds_what_the_policy_forbids():
    assert inline_script_problems('<script src="/static/a.js"></script><p class="on">x</p>') == []
    assert inline_script_problems('<script type="application/json">{}</script>') == []
    assert len(inline_script_problems("<script>alert(1)</script>")) == 1
    assert len(inline_script_problems('<select onchange="this.form.submit()">')) == 1
    assert len(inline_script_problems('<div hx-on:click="x()">')) == 1
    assert len(inline_script_problems('<div\n  hx-on::after-request="x()">')) == 1


def test_every_page_keeps_to_the_policy_and_is_not_stored(data, admin_user):  # noqa: F811
    client = logged_in_client(admin_user)
    checked = 0
    for route, _pattern in _walk(get_resolver()):
        if route.startswith(SKIP_PREFIXES) or route in {"metrics"}:
            continue
        url = _fill(route, data)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            if (
                response.status_code in {405, 404}
                or response.status_code >= 300
                and response.status_code < 400
            ):
                continue
            policy = response.headers.get("Content-Security-Policy", "")
            assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
            assert "no-store" in response.headers.get("Cache-Control", ""), url
            if "html" in response.headers.get("Content-Type", ""):
                assert inline_script_problems(response.content.decode()) == [], url
                checked += 1
    assert checked > 100


def test_policy_directives():
    response = Client().get("/login/")
    policy = dict(
        [*part.strip().split(" ", 1), ""][:2]
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert "unsafe" not in policy["script-src"]


def test_api_answers_are_not_stored(admin_api):
    response = admin_api.get("/accounts")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "no-store" in Client().get("/api/v1/accounts").headers["Cache-Control"]  # refused, also not stored
