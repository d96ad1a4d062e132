"""Access keys: made in the console or by manage.py, the secret shown once and kept encrypted,
revocation refused at once."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from console.api.models import AccessKey
from console.dialects import keys

pytestmark = pytest.mark.django_db


def test_the_command_prints_one_json_line_and_revokes() -> None:
    out = io.StringIO()
    call_command("accesskey", "create", "--name", "cms", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    pair = json.loads(lines[0])
    assert set(pair) == {"id", "secret"} and keys.secret_for(pair["id"]) == pair["secret"]
    call_command("accesskey", "revoke", pair["id"], stdout=io.StringIO())
    assert keys.secret_for(pair["id"]) is None


def test_the_secret_is_not_stored_in_clear(settings) -> None:  # noqa: ANN001
    key, secret = keys.create_access_key("at rest")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM console_accesskey")
        dump = repr(cursor.fetchall())
    assert secret not in dump and key.key_id in dump
    # Another encryption key cannot read it (a stolen database alone gives nothing).
    settings.ACCESS_KEY_ENCRYPTION_KEY = "another deployment"
    assert keys.secret_for(key.key_id) is None


def test_the_console_shows_the_secret_once_and_revokes(admin_client) -> None:  # noqa: ANN001
    page = admin_client.post(reverse("console-access-key-create"), {"access-name": "ci importer"})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    secret = re.search(r'id="new-access-secret">([^<]+)<', html).group(1)
    key = AccessKey.objects.get(name="ci importer")
    assert keys.secret_for(key.key_id) == secret
    again = admin_client.get(reverse("console-api-keys")).content.decode()
    assert key.key_id in again and secret not in again
    empty = admin_client.post(reverse("console-access-key-create"), {"access-name": " "})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    admin_client.post(reverse("console-access-key-revoke", args=[key.pk]))
    assert keys.secret_for(key.key_id) is None


def test_the_keys_page_lists_both_kinds_under_a_plain_title(admin_client) -> None:  # noqa: ANN001
    keys.create_access_key("listed")
    html = admin_client.get(reverse("console-api-keys")).content.decode()
    assert re.search(r"<title>API keys · Loopdeck</title>", html)
    assert html.count('id="access-keys"') == 1 and "listed" in html
