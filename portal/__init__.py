"""城乡教研共同体: the urban-rural teaching community portal."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import ROOT, load_config
from .core import postgres as _postgres  # noqa: F401  (PostgreSQL: JIT off)
from .core import sqlite as _sqlite  # noqa: F401  (SQLite pragmas and BEGIN IMMEDIATE for writes)
from .extensions import babel, csrf, db, limiter, login_manager, migrate, socketio


def create_app(config: dict | None = None) -> Flask:
    """Build the application from the environment's settings, overridden by ``config``.
    Reads settings (and makes SECRET_KEY once); never creates tables."""
    settings = load_config()
    settings.update(config or {})
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(settings["INSTANCE_DIR"]),
    )
    app.config.update(settings)
    configure_logging(app)
    configure_extensions(app)
    configure_routing(app)
    configure_blueprints(app)
    configure_web(app)
    configure_cli(app)
    return app


def configure_logging(app: Flask) -> None:
    if not app.debug and not logging.getLogger("portal").handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logging.getLogger("portal").addHandler(handler)
        logging.getLogger("portal").setLevel(logging.INFO)


def configure_extensions(app: Flask) -> None:
    db.init_app(app)
    from .resources.search_ddl import alembic_include_name

    # The search indexes (SQLite FTS5 tables, the pg_trgm index) are made by their own DDL.
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     include_name=alembic_include_name)
    csrf.init_app(app)

    from .core.web import select_locale

    babel.init_app(app, locale_selector=select_locale)
    from .core import i18n

    i18n.install(app)
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "threading"),  # explicit, never auto-detected
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        channel=app.config.get("SOCKETIO_CHANNEL", "flask-socketio"),
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),  # None: same origin only
        ping_interval=25,
        ping_timeout=30,  # rural links are slow; give them time before calling them gone
        max_http_buffer_size=100_000,
    )
    from .accounts.auth import configure_login

    configure_login(app, login_manager)
    if app.config.get("TRUSTED_PROXY_HOPS"):
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def configure_routing(app: Flask) -> None:
    from .core.converters import IdConverter

    app.url_map.converters["id"] = IdConverter
    app.url_map.strict_slashes = False


def configure_blueprints(app: Flask) -> None:
    from .accounts import api as _accounts_api  # noqa: F401  (adds routes to `api`)
    from .accounts import audit_views as _accounts_audit  # noqa: F401  (the audit trail page on accounts.bp)
    from .accounts import home as _accounts_home  # noqa: F401  (home panels)
    from .accounts.views import bp as accounts_bp
    from .communities import api as _communities_api  # noqa: F401
    from .communities import home as _communities_home  # noqa: F401
    from .communities.views import bp as communities_bp
    from .core.api import api
    from .core.diagnostics import bp as health_bp
    from .live import api as _live_api  # noqa: F401  (the session summary)
    from .live import events as _live_events  # noqa: F401  (socket handlers)
    from .live import summary_views as _live_summary  # noqa: F401  (summary page on the live blueprint)
    from .live.views import bp as live_bp
    from .observations import api as _observations_api  # noqa: F401
    from .observations import home as _observations_home  # noqa: F401  (the quota progress panel)
    from .observations import quota_api as _observations_quota_api  # noqa: F401
    from .observations import quota_views as _observations_quota_views  # noqa: F401  (routes on bp)
    from .observations import register as _observations_register  # noqa: F401  (the register export)
    from .observations.views import bp as observations_bp
    from .org import api as _org_api  # noqa: F401
    from .org.views import bp as org_bp
    from .partnerships import api as _partnerships_api  # noqa: F401
    from .partnerships import home as _partnerships_home  # noqa: F401
    from .partnerships.views import bp as partnerships_bp
    from .resources import api as _resources_api  # noqa: F401
    from .resources.views import bp as resources_bp
    from .scheduling import api as _scheduling_api  # noqa: F401
    from .scheduling import class_views as _scheduling_classes  # noqa: F401  (class and session pages)
    from .scheduling import feeds as _scheduling_feeds  # noqa: F401  (the .ics route)
    from .scheduling import home as _scheduling_home  # noqa: F401  (home panels)
    from .scheduling import session_views as _scheduling_sessions  # noqa: F401
    from .scheduling import timetable_views as _scheduling_timetable  # noqa: F401  (week views)
    from .scheduling.views import bp as scheduling_bp
    from .supervision import api as _supervision_api  # noqa: F401
    from .supervision import dashboard_views as _supervision_dashboard  # noqa: F401  (routes on bp)
    from .supervision.views import bp as supervision_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(org_bp)
    app.register_blueprint(communities_bp)
    app.register_blueprint(partnerships_bp)
    app.register_blueprint(resources_bp)
    app.register_blueprint(scheduling_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(observations_bp)
    app.register_blueprint(supervision_bp)
    app.register_blueprint(api)
    app.register_blueprint(health_bp)


def configure_web(app: Flask) -> None:
    from .core.assets import register_assets
    from .core.diagnostics import register_query_counter
    from .core.templating import register_template_helpers
    from .core.web import register_error_handlers, register_security_headers

    register_assets(app)  # first: its compression hook then runs after every other after_request
    register_error_handlers(app)
    register_security_headers(app)
    register_template_helpers(app)
    register_query_counter(app)


def configure_cli(app: Flask) -> None:
    from .cli import seed

    app.cli.add_command(seed)
