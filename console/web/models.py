"""Per-user console preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class LanguagePreference(models.Model):
    """The console language a user chose in the header; it follows them to any browser."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="language_preference")
    language = models.CharField(max_length=10)
