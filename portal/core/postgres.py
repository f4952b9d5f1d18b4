"""PostgreSQL connection setup: JIT compilation off.

PostgreSQL compiles a query's expressions to machine code (JIT) when the plan's estimated cost
passes ``jit_above_cost``. The estimate is high for the coverage figures over a whole city (a
correlated EXISTS per person), and compiling took ~2.7 s of a ~3 s query whose own work is
~0.3 s (docs/query-plans.md). The portal's queries are short and many, never long analytics
where JIT could pay off, so every connection turns it off. SQLite is untouched.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _postgres_settings(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__.startswith("psycopg"):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a plain SET, not a transaction left open
        dbapi_connection.execute("SET jit = off")
        dbapi_connection.autocommit = autocommit
