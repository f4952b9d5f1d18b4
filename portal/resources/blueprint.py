"""The resources blueprint and its menu entry."""

from flask import Blueprint

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER
from ..core.i18n import lazy_gettext as _l
from ..core.templating import nav_item
from . import models  # noqa: F401  (the tables, for create_all and Alembic)

bp = Blueprint("resources", __name__)

nav_item("resources.index", _l("Resources"), (BUREAU, RESEARCHER, PRINCIPAL, TEACHER), after="partnerships.index")
