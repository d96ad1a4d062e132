"""The console language: chosen in the header, remembered for the user (and in the language
cookie for the sign-in page); otherwise the browser's Accept-Language."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from console.web.models import LanguagePreference

_CODES = {code for code, _ in settings.LANGUAGES}
SESSION_KEY = "loopdeck_language"


class UserLanguageMiddleware:
    """After authentication: a signed-in user's saved choice wins over cookie and browser."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The session was loaded for authentication already; the saved choice is copied into it
        # at sign-in (remember_language), so this costs no query.
        language = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if language in _CODES:
            translation.activate(language)
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        return self.get_response(request)


@receiver(user_logged_in)
def remember_language(sender, request: HttpRequest, user, **kwargs) -> None:  # noqa: ANN001, ANN003
    saved = LanguagePreference.objects.filter(user=user).values_list("language", flat=True).first()
    if saved and request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = saved


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (a safe `next`, the language cookie), and the choice kept for a
    signed-in user so that it follows them to any browser."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if language in _CODES and request.user.is_authenticated:
        LanguagePreference.objects.update_or_create(user=request.user, defaults={"language": language})
        request.session[SESSION_KEY] = language
    return response
