"""S5: password guessing at the sign-in forms is braked: after LOGIN_FAILURE_LIMIT wrong passwords
from one address for one name, sign-in answers 429 with Retry-After, even with the right password."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:
    # The brake is under test, not the hasher: each of these sign-ins would cost 0.3 s of PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("url", [reverse("console-login"), reverse("admin:login")])
def test_the_sixth_wrong_password_in_a_window_is_refused_with_429(url, django_user_model, settings):
    assert (settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW) == (5, 900)
    django_user_model.objects.create_superuser("operator", password=PASSWORD)
    guesser, elsewhere = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="198.51.100.2")
    for n in range(5):
        assert guesser.post(url, {"username": "operator", "password": f"guess {n}"}).status_code == 200
    locked = guesser.post(url, {"username": "Operator ", "password": PASSWORD})  # the name as typed
    assert locked.status_code == 429 and b"Too many sign-in attempts" in locked.content
    assert 0 < int(locked["Retry-After"]) <= 900
    # The operator, from their own address, is not locked out by the guesser.
    assert elsewhere.post(url, {"username": "operator", "password": PASSWORD}).status_code == 302


def test_a_successful_sign_in_clears_the_count(django_user_model):
    django_user_model.objects.create_user("operator", password=PASSWORD)
    client = Client()
    for _ in range(4):
        client.post(reverse("console-login"), {"username": "operator", "password": "wrong"})
    assert client.post(reverse("console-login"), {"username": "operator", "password": PASSWORD}).status_code == 302
    client.logout()
    for _ in range(5):
        assert client.post(reverse("console-login"), {"username": "operator", "password": "wrong"}).status_code == 200
    assert client.post(reverse("console-login"), {"username": "operator", "password": "wrong"}).status_code == 429
