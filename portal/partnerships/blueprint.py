"""The partnerships blueprint, shared by the feature's view modules, and its menu entry (here, so
that it is in the menu before the entries the view modules place after it)."""

from flask import Blueprint

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER
from ..core.i18n import lazy_gettext as _l
from ..core.templating import nav_item

bp = Blueprint("partnerships", __name__)

nav_item("partnerships.index", _l("Partnerships"), (BUREAU, RESEARCHER, PRINCIPAL, TEACHER), after="communities.index")
