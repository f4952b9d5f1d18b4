"""Pages: login, logout, password, home, notifications, language, API tokens, user admin."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, func, or_, select

from ..core.authz import BUREAU, require, require_roles
from ..core.converters import MAX_ID
from ..core.errors import DomainError, Invalid
from ..core.home import panels_for
from ..core.i18n import gettext as _
from ..core.labels import ROLE_LABELS, translated
from ..core.pagination import page_of, paginate
from ..core.sanitize import strip_controls
from ..extensions import db, limiter
from ..org.models import County, School
from . import services
from .forms import ChangePasswordForm, LoginForm, UserFilterForm, UserForm
from .home import place_of
from .models import ApiToken, Notification, User
from .notifications import mark_read, notify, render
from .permissions import can_manage_user

bp = Blueprint("accounts", __name__)

FAILED = (400, 401)


def login_user_key() -> str:
    """Throttle per account as well as per address: NFKC + casefold, so variants share a bucket."""
    username = request.form.get("username")
    if username is None:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # absurdly nested JSON: json_body() answers it with a 400
            body = None
        username = body.get("username") if isinstance(body, dict) else ""
    return "login:" + services.normalise_username(str(username or ""))[:64]


def ip_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def user_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_USER"]


def throttle_login(view):
    """Count failed logins per address and per account; checked before any password hashing.
    Shared limits: the login page and the token endpoint draw on one budget, not one each."""
    view = limiter.shared_limit(
        ip_limit, scope="login-ip", methods=["POST"], deduct_when=lambda r: r.status_code in FAILED
    )(view)
    return limiter.shared_limit(
        user_limit, scope="login-user", key_func=login_user_key, methods=["POST"],
        deduct_when=lambda r: r.status_code in FAILED,
    )(view)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: "/x" yes; "//evil", "https://evil", "/\\evil" no."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ch in target for ch in "\r\n\t\\"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@throttle_login
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            # A fresh session on login: nothing from before survives (session fixation).
            locale = session.get("locale")
            session.clear()
            if locale and not user.locale:
                user.locale = locale
            login_user(user, remember=form.remember.data)
            db.session.commit()
            if user.must_change_password:
                flash(_("Please choose a new password before you continue."), "info")
                return redirect(url_for("accounts.change_password"))
            return redirect(safe_next(request.args.get("next")) or url_for("accounts.home"))
        db.session.commit()
        flash(_("Wrong username or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.log_out(current_user._get_current_object())
    db.session.commit()
    # Clear first: logout_user() leaves the note that deletes the remember-me cookie in the session.
    session.clear()
    logout_user()
    flash(_("You have logged out."), "info")
    response = redirect(url_for("accounts.login"))
    # What this browser kept for the person (observation drafts in localStorage, the observation
    # form's offline copies and its service worker) goes with the login: staff-room computers are
    # shared. The logout button warns first when a draft has not reached the server (portal.js).
    # Not "cache": the content-hashed static files stay, so the next login costs no download.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


# Where a person with a one-time password may still go (static files need no login at all).
PASSWORD_CHANGE_EXEMPT = frozenset({"accounts.change_password", "accounts.logout", "accounts.set_language", "static"})


@bp.before_app_request
def force_password_change():
    """Accounts given a one-time password must choose their own before anything else. The
    person is looked up only for the pages it concerns (not static files, not the API)."""
    endpoint = request.endpoint
    if not endpoint or endpoint in PASSWORD_CHANGE_EXEMPT or request.path.startswith("/api/"):
        return None
    user = current_user._get_current_object()  # one lookup through the proxy, not one per use
    if user.is_authenticated and user.must_change_password:
        return redirect(url_for("accounts.change_password"))
    return None


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.password.data)
        except DomainError as exc:
            getattr(form, exc.field or "password").errors.append(str(exc.message))
        else:
            notify([user], "account.password_changed")
            db.session.commit()
            # The password change ended every session, this one too: start a fresh one here.
            session.clear()
            login_user(user)
            flash(_("Your password was changed. Other devices have been logged out."), "success")
            return redirect(url_for("accounts.home"))
    return render_template("accounts/change_password.html", form=form), 400 if form.errors else 200


@bp.route("/")
@login_required
def home():
    # The person itself, not the proxy: the panels read it a hundred times (0.1-0.2 ms).
    user = current_user._get_current_object()
    return render_template("accounts/home.html", panels=panels_for(user), place=place_of(user))


@bp.route("/language", methods=["POST"])
def set_language():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        services.set_locale(current_user, locale)
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.home"))


# --- notifications ---------------------------------------------------------------------


@bp.route("/notifications")
@login_required
def notifications():
    stmt = (
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    page = paginate(db.session, stmt)
    return render_template("accounts/notifications.html", page=page, render=render)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_notifications_read():
    raw = request.form.get("id")
    ids = None  # no id: mark them all
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= MAX_ID):
            abort(400)  # a malformed id must not mark everything as read
        ids = [int(raw)]
    mark_read(current_user, ids)
    db.session.commit()
    target = request.form.get("go")
    return redirect(safe_next(target) or url_for("accounts.notifications"))


# --- API tokens ---------------------------------------------------------------------------


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    new_token = None
    if request.method == "POST":
        name = (request.form.get("name") or "").strip()[:60] or _("API access")
        new_token = services.issue_token(current_user, name)
        db.session.commit()
    rows = db.session.execute(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc()).limit(50)
    ).scalars()
    return render_template("accounts/tokens.html", tokens=list(rows), new_token=new_token)


@bp.route("/tokens/<id:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    try:
        services.revoke_token(current_user, token_id)
    except DomainError:
        abort(404)
    db.session.commit()
    flash(_("The token was revoked."), "success")
    return redirect(url_for("accounts.tokens"))


# --- user administration (bureau) ---------------------------------------------------------


def _scoped_schools(user) -> list[School]:
    stmt = select(School).where(School.is_active.is_(True)).order_by(School.county_id, School.name)
    if user.county_id is not None:
        stmt = stmt.where(School.county_id == user.county_id)
    return list(db.session.execute(stmt).scalars())


def _fill_user_form_choices(form: UserForm, user) -> None:
    schools = _scoped_schools(user)
    form.school_id.choices = [(0, _("— none —"))] + [(s.id, s.name) for s in schools]
    counties = db.session.execute(select(County).order_by(County.name)).scalars()
    if user.county_id is not None:
        form.county_id.choices = [(c.id, c.name) for c in counties if c.id == user.county_id]
    else:
        form.county_id.choices = [(0, _("Whole city"))] + [(c.id, c.name) for c in counties]


@cache
def _admin_users_statements(scoped: bool, searched: bool, of_role: bool, of_school: bool):
    """The account list's page and count statements for one combination of filters, built once
    (building a statement and its cache key cost more than running it); values come in as bind
    parameters. The columns the list shows, as rows, the school's name joined (at most one)."""
    where = []
    if scoped:
        where.append(or_(School.county_id == bindparam("county_id"), User.county_id == bindparam("county_id")))
    if searched:
        # The person's text is a LIKE pattern as before: % and _ in it match as wildcards.
        where.append(or_(User.username.like(bindparam("needle")), User.name.like(bindparam("needle"))))
    if of_role:
        where.append(User.role == bindparam("role"))
    if of_school:
        where.append(User.school_id == bindparam("school_id"))
    stmt = (
        select(User.id, User.name, User.username, User.role, User.active, User.school_id,
               School.name.label("school_name"))
        .outerjoin(School, User.school_id == School.id)
        .where(*where)
        .order_by(User.active.desc(), User.role, User.username)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    # Flat, not a count of the page's subquery: SQLite then counts from the (active, role,
    # username, name) index alone.
    count = select(func.count()).select_from(User)
    if scoped:
        count = count.outerjoin(School, User.school_id == School.id)
    return stmt, count.where(*where)


@bp.route("/admin/users")
@require_roles(BUREAU)
def admin_users():
    form = UserFilterForm(request.args)
    params = {}
    scoped = current_user.county_id is not None
    if scoped:
        params["county_id"] = current_user.county_id
    query = strip_controls(form.q.data).strip() if form.q.data else ""  # NUL would be a 500 on PostgreSQL
    if query:
        params["needle"] = f"%{query}%"
    of_role = form.role.data in ROLE_LABELS
    if of_role:
        params["role"] = form.role.data
    school_id = request.args.get("school_id", "")
    of_school = school_id.isascii() and school_id.isdigit() and len(school_id) <= 10 and int(school_id) <= MAX_ID
    if of_school:
        params["school_id"] = int(school_id)
    stmt, count = _admin_users_statements(scoped, bool(query), of_role, of_school)
    page = page_of(db.session, stmt, count, params, count_short_pages=False)  # a search reads every account
    return render_template("accounts/admin_users.html", page=page, form=form,
                           role_labels=translated(ROLE_LABELS))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require_roles(BUREAU)
def admin_new_user():
    form = UserForm()
    _fill_user_form_choices(form, current_user)
    if form.validate_on_submit():
        school = db.session.get(School, form.school_id.data) if form.school_id.data else None
        try:
            if not form.password.data:
                raise Invalid(_("Please give an initial password."), field="password")
            user = services.create_user(
                current_user,
                username=form.username.data,
                name=form.name.data,
                password=form.password.data,
                role=form.role.data,
                school=school,
                county_id=form.county_id.data or None,
                subjects=form.subjects.data,
                title=form.title.data,
                must_change_password=True,
            )
            user.is_backbone = form.is_backbone.data
        except DomainError as exc:
            db.session.rollback()
            _fill_user_form_choices(form, current_user)
            getattr(form, exc.field or "username").errors.append(str(exc.message))
        else:
            notify([user], "account.created", params={"name": user.name})
            db.session.commit()
            flash(_("Account %(u)s created. The person must change the password at first login.", u=user.username), "success")
            return redirect(url_for("accounts.admin_users"))
    return render_template("accounts/admin_user_form.html", form=form, user=None), 400 if form.errors else 200


@bp.route("/admin/users/<id:user_id>", methods=["GET", "POST"])
@require_roles(BUREAU)
def admin_edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    require(can_manage_user(current_user, user), hide=True)
    form = UserForm(obj=user)
    _fill_user_form_choices(form, current_user)
    if request.method == "GET":
        form.school_id.data = user.school_id or 0
        form.county_id.data = user.county_id or 0
    del form.password
    form.username.data = user.username
    if form.validate_on_submit():
        school = db.session.get(School, form.school_id.data) if form.school_id.data else None
        old_role = user.role
        try:
            services.update_user(
                current_user,
                user,
                name=form.name.data,
                role=form.role.data,
                school=school,
                county_id=form.county_id.data or None,
                subjects=form.subjects.data,
                title=form.title.data,
                is_backbone=form.is_backbone.data,
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name").errors.append(str(exc.message))
        else:
            if old_role != user.role:
                notify([user], "account.role_changed", params={"role": user.role})
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.admin_users"))
    return render_template("accounts/admin_user_form.html", form=form, user=user), 400 if form.errors else 200


@bp.route("/admin/users/<id:user_id>/active", methods=["POST"])
@require_roles(BUREAU)
def admin_set_active(user_id: int):
    user = db.get_or_404(User, user_id)
    require(can_manage_user(current_user, user), hide=True)
    active = request.form.get("active") == "1"
    try:
        services.set_user_active(current_user, user, active)
    except DomainError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("accounts.admin_edit_user", user_id=user.id))
    db.session.commit()
    flash(_("The account was reactivated.") if active else _("The account was deactivated and logged out everywhere."), "success")
    return redirect(url_for("accounts.admin_edit_user", user_id=user.id))


@bp.route("/admin/users/<id:user_id>/reset-password", methods=["POST"])
@require_roles(BUREAU)
def admin_reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    require(can_manage_user(current_user, user), hide=True)
    temporary = services.reset_password(current_user, user)
    notify([user], "account.password_reset")
    db.session.commit()
    return render_template("accounts/admin_password_reset.html", user=user, temporary=temporary)

