"""Account operations. They add and flush, raise domain errors, log who did what; never commit."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.authz import PRINCIPAL, ROLES, TEACHER
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.models import after_commit, utcnow
from ..core.sanitize import clean_text, strip_controls
from ..extensions import db
from ..live.protocol import disconnect_user
from ..org.models import School
from .models import TITLES, ApiToken, User, new_nonce
from .passwords import check_password_policy

log = logging.getLogger("portal.audit")

USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
# A fixed hash to compare against when the username is unknown, so both paths cost the same.
_DUMMY_HASH = generate_password_hash("timing-equaliser-not-a-password")


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def normalise_username(username: str) -> str:
    """The form usernames are stored and looked up in. A control character can be part of no
    username: it becomes U+FFFD, so the name matches nobody (and PostgreSQL, which cannot compare
    a NUL, is never asked to)."""
    return _CONTROLS.sub("\ufffd", unicodedata.normalize("NFKC", username or "")).strip().casefold()


_NAME_LIST = re.compile(r"[\s,，、;；]+")


def user_ids_from_list(raw: str | None, *, field: str, max_count: int = 200) -> list[int]:
    """The ids of a typed list of usernames (spaces, commas or 、 between them), in the order
    given, each once. Unknown names are refused by name, too many at once as such."""
    names = [n for n in dict.fromkeys(normalise_username(n) for n in _NAME_LIST.split(raw or "")) if n]
    if len(names) > max_count:
        raise Invalid(_l("At most %(n)d people at once.", n=max_count), field=field)
    if not names:
        return []
    found = dict(db.session.execute(select(User.username, User.id).where(User.username.in_(names))).all())
    unknown = [n for n in names if n not in found]
    if unknown:
        raise Invalid(_l("Unknown usernames: %(names)s", names=", ".join(unknown[:10])), field=field)
    return [found[n] for n in names]


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, Werkzeug's default


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Same cost whether or not the user exists."""
    username = normalise_username(username)
    user = None
    if "\x00" not in username:  # PostgreSQL refuses NUL in text: such a name matches nobody
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or len(password or "") > 1024:
        check_password_hash(_DUMMY_HASH, password[:1024] if password else "")
        return None
    try:
        ok = check_password_hash(user.password_hash, password or "")
    except ValueError:  # an unknown hash method must not become a 500
        ok = False
    if not ok or not user.active:
        log.info("login failed user=%s", user.id)
        return None
    user.last_login_at = utcnow()
    return user


def _validate_username(username: str) -> str:
    username = normalise_username(username)
    if not 3 <= len(username) <= 64 or not set(username) <= USERNAME_CHARS:
        raise Invalid(
            _l("The username must be 3 to 64 letters, digits, dots, dashes or underscores."),
            field="username",
        )
    return username


def _validate_placement(role: str, school: School | None) -> None:
    if role not in ROLES:
        raise Invalid(_l("Unknown role."), field="role")
    if role in (TEACHER, PRINCIPAL) and school is None:
        raise Invalid(_l("Teachers and principals must belong to a school."), field="school_id")
    if school is not None and not school.is_active:
        raise Invalid(_l("This school has been deactivated."), field="school_id")


def create_user(
    actor: User | None,
    *,
    username: str,
    name: str,
    password: str,
    role: str,
    school: School | None = None,
    county_id: int | None = None,
    subjects: list[str] | None = None,
    title: str = "none",
    must_change_password: bool = False,
    check_policy: bool = True,
    password_hash: str | None = None,
) -> User:
    username = _validate_username(username)
    name = clean_text(name, max_length=60)
    if not name:
        raise Invalid(_l("Please enter the person's name."), field="name")
    _validate_placement(role, school)
    if title not in TITLES:
        raise Invalid(_l("Unknown professional title."), field="title")
    if check_policy:
        check_password_policy(password, username=username, name=name)
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(_l("The username %(u)s is already taken.", u=username), field="username")
    user = User(
        username=username,
        name=name,
        password_hash=password_hash or hash_password(password),
        role=role,
        school=school,
        county_id=school.county_id if school is not None else county_id,
        subjects=list(subjects or []),
        title=title,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    log.info("user created id=%s role=%s by=%s", user.id, role, actor.id if actor else "cli")
    return user


def end_sessions(user: User) -> None:
    """Make every existing cookie, token and socket of this user stop working."""
    user.session_nonce = new_nonce()
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    after_commit(disconnect_user, user.id)


def log_out(user: User) -> None:
    # Logging out ends the server-side session: a copied cookie must not keep working.
    user.session_nonce = new_nonce()
    after_commit(disconnect_user, user.id)
    log.info("logout user=%s", user.id)


def change_password(user: User, current: str, new: str) -> None:
    try:
        ok = check_password_hash(user.password_hash, current or "")
    except ValueError:
        ok = False
    if not ok:
        raise Invalid(_l("The current password is not correct."), field="current_password")
    if current == new:
        raise Invalid(_l("The new password must differ from the current one."), field="password")
    check_password_policy(new, username=user.username, name=user.name)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(user)
    log.info("password changed user=%s", user.id)


def reset_password(actor: User, user: User) -> str:
    """Give the user a random one-time password that must be changed at the next login."""
    temporary = "Px-" + secrets.token_urlsafe(9)
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    end_sessions(user)
    log.info("password reset user=%s by=%s", user.id, actor.id)
    return temporary


def update_user(
    actor: User,
    user: User,
    *,
    name: str,
    role: str,
    school: School | None,
    county_id: int | None,
    subjects: list[str],
    title: str,
    is_backbone: bool,
) -> None:
    name = clean_text(name, max_length=60)
    if not name:
        raise Invalid(_l("Please enter the person's name."), field="name")
    _validate_placement(role, school)
    if title not in TITLES:
        raise Invalid(_l("Unknown professional title."), field="title")
    if user.id == actor.id and role != user.role:
        raise NotAllowed(_l("You cannot change your own role."), field="role")
    role_changed = role != user.role
    user.name, user.role, user.school = name, role, school
    user.county_id = school.county_id if school is not None else county_id
    user.subjects, user.title, user.is_backbone = list(subjects), title, is_backbone
    if role_changed:
        # A new role means new rights: old sessions were granted under the old ones.
        end_sessions(user)
        log.info("role changed user=%s to=%s by=%s", user.id, role, actor.id)


def set_user_active(actor: User, user: User, active: bool) -> None:
    if user.id == actor.id and not active:
        raise NotAllowed(_l("You cannot deactivate your own account."))
    user.active = active
    if not active:
        end_sessions(user)
    log.info("user %s id=%s by=%s", "activated" if active else "deactivated", user.id, actor.id)


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise Invalid(_l("Unknown language."))
    user.locale = locale


# --- API tokens -------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str = "api") -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            user=user,
            token_hash=_digest(token),
            name=strip_controls(name).strip()[:60],
            expires_at=utcnow() + current_app.config["API_TOKEN_LIFETIME"],
        )
    )
    db.session.flush()
    log.info("token issued user=%s", user.id)
    return token


# Built once, bound per API call; the token's person comes in the same statement, as an entity
# of its own set as ``record.user`` (what a joined eager load does, for less work on every call).
TOKEN_BY_HASH = select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(
    ApiToken.token_hash == bindparam("token_hash"))


def token_record(token: str) -> ApiToken | None:
    """The live token record for a raw token, or None when unknown, revoked, expired or inactive."""
    if not token or len(token) > 128:
        return None
    found = db.session.execute(TOKEN_BY_HASH, {"token_hash": _digest(token)}).one_or_none()
    if found is None:
        return None
    record, user = found
    set_committed_value(record, "user", user)
    now = utcnow()
    if record.revoked_at is not None or record.expires_at <= now or not user.active:
        return None
    # Touch at most once a minute: a write per API call would serialise SQLite.
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=1):
        record.last_used_at = now
    return record


def commit_token_touch() -> None:
    """Commit the last-used time ``token_record`` may have set, on a request that otherwise only
    reads. Best effort: on SQLite such a request reads in a deferred transaction, whose write fails
    at once when another writer committed meanwhile; a later call within the minute touches it."""
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()


def revoke_token(user: User, token_id: int) -> None:
    record = db.session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        raise NotAllowed(_l("This token is not yours."))
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        log.info("token revoked id=%s user=%s", record.id, user.id)

