"""Passwords are stored with Argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane: tenancy/hashers.py), and a
hash made with Django's own Argon2 parameters (100 MiB, 8 lanes) or with PBKDF2 still signs in, after which it
is stored again with ours. (The suite's other tests hash with MD5 for speed: here the production list is used.)"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher, make_password

from threadline.config import settings as production
from threadline.testing.factories import PASSWORD, make_agent

OURS = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


@pytest.fixture
def hashers(settings):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


def test_a_new_password_is_argon2id_at_owasps_minimum(hashers, admin):
    user = admin.user
    user.set_password(PASSWORD)
    user.save()
    user.refresh_from_db()
    assert user.password.startswith(OURS)
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


@pytest.mark.parametrize("older", [Argon2PasswordHasher, PBKDF2PasswordHasher])
def test_an_older_hash_signs_in_and_is_stored_again_with_ours(hashers, admin, client, older):
    agent = make_agent(admin, "dana@example.com")
    user = agent.user
    user.password = make_password(PASSWORD, hasher=older())
    user.save(update_fields=["password"])
    assert not user.password.startswith(OURS)
    answer = client.post("/login", {"email": user.email, "password": PASSWORD, "next": "/app/"})
    assert (answer.status_code, answer["Location"]) == (302, "/app/")
    user.refresh_from_db()
    assert user.password.startswith(OURS)
    assert user.check_password(PASSWORD)
