"""API: tokens, /me and /users."""

from __future__ import annotations

from functools import cache

from flask import g, jsonify
from flask_login import current_user
from sqlalchemy import bindparam, func, select

from ..core.api import api, error_response, listing, login_required
from ..core.authz import ROLES, require
from ..core.converters import MAX_ID
from ..core.errors import Invalid, NotAllowed
from ..core.i18n import gettext as _
from ..core.pagination import page_of
from ..core.validate import get_int, get_str, json_body, query_choice, query_int, query_str
from ..extensions import db
from ..org.models import School
from . import services
from .models import User
from .permissions import can_list_users, can_manage_user, can_manage_users
from .views import throttle_login


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "school_id": user.school_id,
    }


@api.route("/auth/token", methods=["POST"])
@throttle_login
def issue_token():
    data = json_body()
    username = data.get("username")
    password = data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        return error_response(400, "invalid", _("Send a username and a password."))
    user = services.authenticate(username, password)
    if user is None:
        db.session.commit()
        return error_response(401, "invalid_credentials", _("Wrong username or password."))
    if user.must_change_password:
        # A one-time password opens only the change-password page, not the API.
        db.session.commit()
        return error_response(
            403, "password_change_required", _("Please log in on the portal and choose a new password first.")
        )
    token = services.issue_token(user, name=str(data.get("name") or "api")[:60])
    db.session.commit()
    return jsonify({"token": token}), 200


@api.route("/auth/token", methods=["DELETE"])
@login_required
def revoke_current_token():
    """Revoke the token this request was made with."""
    record = g.get("api_token")
    if record is None:
        return error_response(400, "no_token", _("This request was not made with a token."))
    services.revoke_token(current_user, record.id)
    db.session.commit()
    return "", 204


@api.route("/me")
@login_required
def me():
    return jsonify(user_json(current_user))


@cache
def _users_statements(by_username: bool, of_school: bool, of_role: bool):
    """The user list's page and count statements for one combination of filters, built once; the
    values come in as bind parameters. The columns ``user_json`` gives, as rows."""
    where = [User.active.is_(True)]
    if by_username:
        where.append(User.username == bindparam("username"))
    if of_school:
        where.append(User.school_id == bindparam("school_id"))
    if of_role:
        where.append(User.role == bindparam("role"))
    stmt = (
        select(User.id, User.username, User.name, User.role, User.school_id)
        .where(*where)
        .order_by(User.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return stmt, select(func.count()).select_from(User).where(*where)


def _user_row_json(row) -> dict:
    return {"id": row.id, "username": row.username, "name": row.name, "role": row.role, "school_id": row.school_id}


@api.route("/users")
@login_required
def list_users():
    require(can_list_users(current_user))
    params = {}
    username = query_str("username")
    if username:
        params["username"] = services.normalise_username(username)
    school_id = query_int("school_id")
    if school_id is not None:
        params["school_id"] = school_id
    role = query_choice("role", ROLES)
    if role:
        params["role"] = role
    stmt, count = _users_statements(bool(username), school_id is not None, bool(role))
    return jsonify(listing(page_of(db.session, stmt, count, params), _user_row_json))


@api.route("/users", methods=["POST"])
@login_required
def create_user():
    if not can_manage_users(current_user):
        raise NotAllowed(_("Only bureau staff create accounts."))
    data = json_body()
    role = get_str(data, "role", max_length=16)
    if role not in ROLES:
        raise Invalid(_("role must be one of: %(choices)s.", choices=", ".join(ROLES)), field="role")
    school_id = get_int(data, "school_id", required=role in ("teacher", "principal"), high=MAX_ID)
    school = None
    if school_id is not None:
        school = db.session.get(School, school_id)
        if school is None:
            raise Invalid(_("There is no school with id %(id)d.", id=school_id), field="school_id")
    password = data.get("password")
    if not isinstance(password, str):
        raise Invalid(_("password is required."), field="password")
    user = services.create_user(
        current_user,
        username=get_str(data, "username", max_length=64),
        name=get_str(data, "name", max_length=60),
        password=password,
        role=role,
        school=school,
        county_id=current_user.county_id,
    )
    if not can_manage_user(current_user, user):
        db.session.rollback()
        raise NotAllowed(_("This school is outside your county."))
    db.session.commit()
    return jsonify(user_json(user)), 201


