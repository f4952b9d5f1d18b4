"""Health check for load balancers, and the per-request SQL statement count the benchmark reads.

The count is exposed (as ``X-Query-Count``) only when EXPOSE_QUERY_COUNT is set, as
``make bench`` does for the server it starts.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, jsonify
from sqlalchemy import event, text

from ..extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """Answers when the process is up and the database reachable; the lightest endpoint."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


def register_query_counter(app: Flask) -> None:
    if not app.config.get("EXPOSE_QUERY_COUNT"):
        return

    def count(conn, cursor, statement, parameters, context, executemany):
        if "query_count" in g:
            g.query_count += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)

    @app.before_request
    def start_count():
        g.query_count = 0

    @app.after_request
    def report_count(response):
        response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return response
