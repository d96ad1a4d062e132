"""S1/S6: `manage.py check --deploy` passes with the production settings the README lists, and a
real server started with them sends the headers and cookie flags those settings promise. The
local default (plain http on 127.0.0.1) keeps working without any of them."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest
import requests
from django.conf import settings

from tests.e2e.conftest import database_url
from tests.hardening.abuse_support import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "loopdeck.example.com"
PASSWORD = "correct horse battery staple"


def production_env(tmp_path, **extra: str) -> dict[str, str]:
    """The README's production settings (behind a TLS-terminating proxy)."""
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' own switch (set in this process by then).
    env = {k: v for k, v in os.environ.items()
           if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS=HOST,
        SECURE_COOKIES="1", SECURE_SSL_REDIRECT="1", SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}", LOOPDECK_DATA_DIR=str(tmp_path),
    )
    env.update(extra)
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_check_deploy_passes_with_the_production_settings_only(tmp_path):
    production = check_deploy(production_env(tmp_path))
    assert production.returncode == 0, production.stdout + production.stderr
    assert "no issues" in production.stdout
    # The local defaults are for http://127.0.0.1: the same check names what production must set.
    local = {k: v for k, v in production_env(tmp_path).items()
             if not k.startswith("SECURE_") and k not in ("DEBUG", "ALLOWED_HOSTS")}
    local["DEBUG"] = "1"
    failed = check_deploy(local)
    assert failed.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016", "security.W018"):
        assert warning in failed.stderr, failed.stderr


def test_a_production_server_sends_the_promised_headers_and_cookie_flags(tmp_path, redis_url, media_root,
                                                                          django_user_model):
    django_user_model.objects.create_user("operator", password=PASSWORD)
    env = production_env(tmp_path, REDIS_URL=redis_url, DATABASE_URL=database_url(), MEDIA_ROOT=str(media_root))
    with gunicorn(env, tmp_path / "gunicorn.log") as (host, port):
        base = f"http://{host}:{port}"
        plain = requests.get(f"{base}/login/", headers={"Host": HOST}, allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"] == f"https://{HOST}/login/"

        # What the proxy forwards for an https request.
        browser = requests.Session()
        browser.headers.update({"Host": HOST, "X-Forwarded-Proto": "https", "Referer": f"https://{HOST}/login/"})
        page = browser.get(f"{base}/login/", timeout=10)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "same-origin"
        assert page.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        csrf_cookie = next(c for c in page.raw.headers.getlist("Set-Cookie") if c.startswith("csrftoken="))
        assert "; Secure" in csrf_cookie and "; HttpOnly" in csrf_cookie and "SameSite=Lax" in csrf_cookie

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        # requests keeps Secure cookies for https URLs; this hop is http behind the "proxy".
        cookie = csrf_cookie.split(";")[0]
        signed_in = browser.post(f"{base}/login/", data={"csrfmiddlewaretoken": token, "username": "operator",
                                                         "password": PASSWORD}, headers={"Cookie": cookie},
                                 allow_redirects=False, timeout=10)
        assert signed_in.status_code == 302, signed_in.text[:500]
        session_cookie = next(c for c in signed_in.raw.headers.getlist("Set-Cookie") if c.startswith("sessionid="))
        assert "; Secure" in session_cookie and "; HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie

        # DEBUG is off: an unknown page is the plain 404, without the URL list or settings.
        missing = browser.get(f"{base}/no-such-page/", timeout=10)
        assert missing.status_code == 404 and "urlpatterns" not in missing.text and "SECRET" not in missing.text
