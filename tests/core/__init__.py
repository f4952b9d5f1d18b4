"""Tests of the shared core. Also home to ``fast_login_as``, which other test modules import."""

from __future__ import annotations

import pytest


@pytest.fixture(name="login_as")
def fast_login_as(make, client):
    """Like conftest's ``login_as``, but writes the login into the session instead of posting
    the form: each password check costs ~0.2 s, and the form has its own tests
    (tests/accounts/test_login.py). Import it into a module to use it there."""

    def _login(role_or_user="teacher", **kwargs):
        user = role_or_user if not isinstance(role_or_user, str) else make.user(role=role_or_user, **kwargs)
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return _login
