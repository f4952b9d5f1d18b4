"""Translation lookups for code and templates.

Flask-Babel finds the request's catalogue again on every lookup (its namespace on ``g``, the
locale, the locale's identifier, the domain's cache): a few microseconds each, and a page asks for
100 to 300 strings (labels, select options, the menu). Here the catalogue is found once per request
and locale and kept on Flask-Babel's own namespace, next to the locale it belongs to, so
``force_locale`` (a notification written in its reader's language) and ``refresh`` still switch it.
Outside a request (the CLI, tests) Flask-Babel answers as usual.
"""

from __future__ import annotations

from flask import Flask, g
from flask_babel import get_locale
from flask_babel import get_translations as babel_translations
from flask_babel.speaklater import LazyString
from markupsafe import Markup


def translations():
    """The catalogue of the current locale (a babel ``Translations`` or ``NullTranslations``)."""
    try:
        namespace = g._flask_babel
    except (AttributeError, RuntimeError):  # no lookup yet in this request, or no app context
        return babel_translations()
    kept = getattr(namespace, "portal_translations", None)
    locale = getattr(namespace, "babel_locale", None)
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    found = babel_translations()
    namespace.portal_translations = (get_locale(), found)
    return found


def gettext(string: str, **variables) -> str:
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """A string translated when it is shown, in the locale of whoever it is shown to."""
    return LazyString(gettext, string, **variables)


def safe_translation(text: str) -> Markup:
    """A translation marked safe, as the templates' own ``_()`` is under autoescape: ``%`` with it
    then escapes only the values put in. For texts translated once per page and filled in per row."""
    return Markup(text)  # noqa: S704  (our catalogue, as trusted as the templates)


def install(app: Flask) -> None:
    """Templates' ``_``, ``gettext`` and ``ngettext`` look up through the same kept catalogue."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, num: translations().ungettext(singular, plural, num),
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, num: translations().unpgettext(context, singular, plural, num),
        newstyle=True,
    )
