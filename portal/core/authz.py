"""Role gates shared by pages, API routes and socket handlers.

Object-level rules live in each feature's ``permissions.py`` as ``can_<verb>_<noun>``
predicates; this module only answers "is this person logged in, with one of these roles".
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

BUREAU = "bureau"
RESEARCHER = "researcher"
PRINCIPAL = "principal"
TEACHER = "teacher"
ROLES = (BUREAU, RESEARCHER, PRINCIPAL, TEACHER)


def has_role(user, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


def require_roles(*roles: str):
    """View decorator: 401 (login page) for anonymous visitors, 403 for the wrong role."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def require(allowed: bool, *, hide: bool = False) -> None:
    """Abort with 403 (or 404 when the object's existence is itself private) unless allowed."""
    if not allowed:
        abort(404 if hide else 403)
