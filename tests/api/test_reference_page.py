"""The API reference page renders the OpenAPI descriptions' Markdown (issue 15: it showed
`**Authentication.**` and backticks)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_reference_renders_markdown_not_its_marks(admin_client):
    page = admin_client.get(reverse("console-api-docs")).content.decode()
    text = re.sub(r"<pre.*?</pre>", "", page, flags=re.S)
    assert "<strong>Authentication.</strong>" in page
    assert "**" not in text
    assert "<code>" in page and not re.search(r"`[A-Za-z]", text)
