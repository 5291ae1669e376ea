"""Production settings from the environment: `touchpoint check --deploy` is clean with them, and the
HTTPS switches do what docs/operations.md says."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

PRODUCTION = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "cs.example.com",
    "TOUCHPOINT_HTTPS": "1",
    "TOUCHPOINT_FORWARDED_PROTO_HEADER": "X-Forwarded-Proto",
    "CSRF_TRUSTED_ORIGINS": "https://cs.example.com",
}


def _touchpoint(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TOUCHPOINT_", "SECURE_", "DJANGO_"))}
    base.pop("DEBUG", None)
    base.update({"TOUCHPOINT_DATA_DIR": str(tmp_path), "SECRET_KEY": secrets.token_urlsafe(60)}, **env)
    script = "import sys; from touchpoint.cli import main; sys.argv = ['touchpoint'] + sys.argv[1:]; main()"
    return subprocess.run(
        [sys.executable, "-c", script, *args], env=base, capture_output=True, text=True, timeout=180
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _touchpoint(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_https(tmp_path):
    env = {**PRODUCTION, "TOUCHPOINT_HTTPS": "0"}
    result = _touchpoint(["check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr, check


def test_production_settings_read_from_the_environment(tmp_path):
    script = (
        "import json; from django.conf import settings; import django; django.setup(); print(json.dumps({"
        "'redirect': settings.SECURE_SSL_REDIRECT, 'hsts': settings.SECURE_HSTS_SECONDS,"
        "'subdomains': settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'cookie': settings.SESSION_COOKIE_SECURE,"
        "'csrf': settings.CSRF_COOKIE_SECURE, 'proxy': getattr(settings, 'SECURE_PROXY_SSL_HEADER', None),"
        "'hosts': settings.ALLOWED_HOSTS}))"
    )
    env = {**PRODUCTION, "TOUCHPOINT_HSTS_SECONDS": "600", "TOUCHPOINT_HSTS_INCLUDE_SUBDOMAINS": "1"}
    base = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHPOINT_")}
    base.update(env, TOUCHPOINT_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="touchpoint.settings")
    out = subprocess.run(
        [sys.executable, "-c", script], env=base, capture_output=True, text=True, timeout=120
    )
    import json

    values = json.loads(out.stdout.strip().splitlines()[-1])
    assert values == {
        "redirect": True,
        "hsts": 600,
        "subdomains": True,
        "cookie": True,
        "csrf": True,
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
        "hosts": ["cs.example.com"],
    }
    # Without the proxy header setting, a forged X-Forwarded-Proto is not trusted.
    base.pop("TOUCHPOINT_FORWARDED_PROTO_HEADER")
    out = subprocess.run(
        [sys.executable, "-c", script], env=base, capture_output=True, text=True, timeout=120
    )
    assert json.loads(out.stdout.strip().splitlines()[-1])["proxy"] is None


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_plain_http_is_redirected_but_healthz_and_tracking_answer_behind_the_proxy():
    client = Client()
    assert client.get("/login/").status_code == 301
    assert client.get("/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get("/healthz").status_code in {200, 503}  # answered, not redirected
    tracked = client.post("/v1/track", data="{}", content_type="application/json")
    assert tracked.status_code in {400, 401}  # answered (no write key), not redirected
