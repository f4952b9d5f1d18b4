"""The fast translation lookups and date formats say exactly what Flask-Babel would."""

from datetime import UTC, date, datetime, timedelta, timezone

import flask_babel
import pytest
from flask_babel import force_locale, refresh

from portal.core import i18n
from portal.core.templating import NUMERIC_PATTERNS, format_local_date, format_local_datetime


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_lookups_match_flask_babel(app, locale):
    with app.test_request_context(headers={"Accept-Language": locale}):
        with force_locale(locale):
            for text in ("Resources", "Log out", "Mathematics", "no such message id"):
                assert i18n.gettext(text) == flask_babel.gettext(text)
            assert i18n.gettext("Downloads: %(n)d", n=7) == flask_babel.gettext("Downloads: %(n)d", n=7)
            assert str(i18n.lazy_gettext("Resources")) == flask_babel.gettext("Resources")


def test_forced_locale_switches_and_comes_back(app):
    with app.test_request_context():
        assert i18n.gettext("Resources") == "资源"
        with force_locale("en"):
            assert i18n.gettext("Resources") == "Resources"
            assert app.jinja_env.from_string("{{ _('Resources') }}").render() == "Resources"
        assert i18n.gettext("Resources") == "资源"
        assert app.jinja_env.from_string("{{ _('Resources') }}").render() == "资源"


def test_refresh_picks_up_a_new_locale(app):
    with app.test_request_context() as ctx:
        assert i18n.gettext("Resources") == "资源"
        ctx.session["locale"] = "en"
        refresh()
        assert i18n.gettext("Resources") == "Resources"


def test_a_lazy_label_follows_the_reader(app):
    label = i18n.lazy_gettext("Resources")
    with app.test_request_context(), force_locale("en"):
        assert f"{label}" == "Resources"
    with app.test_request_context():
        assert f"{label}" == "资源"


def test_outside_a_request_the_source_text(app):
    assert i18n.gettext("Resources") in ("Resources", "资源")  # Flask-Babel's own answer there
    assert i18n.ngettext("%(num)d day", "%(num)d days", 2) == flask_babel.ngettext("%(num)d day", "%(num)d days", 2)


VALUES = [
    datetime(2026, 11, 30, 16, 5, 9, tzinfo=UTC),  # the next day in Shanghai
    datetime(2026, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 6, 1, 23, 59, 59),  # naive: UTC
    datetime(9999, 12, 31, 10, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
@pytest.mark.parametrize("pattern", sorted(NUMERIC_PATTERNS))
def test_numeric_patterns_match_babel(app, locale, pattern):
    with app.test_request_context(), force_locale(locale):
        for value in VALUES:
            assert format_local_datetime(value, pattern) == flask_babel.format_datetime(value, pattern), value
            if "H" not in pattern:
                assert format_local_date(value, pattern) == flask_babel.format_date(value, pattern), value
                assert format_local_date(value.date(), pattern) == flask_babel.format_date(value.date(), pattern)
        if "H" not in pattern:  # year 1 (before time zones, in local mean time): the date only
            assert format_local_date(date(1, 1, 1), pattern) == flask_babel.format_date(date(1, 1, 1), pattern)


def test_other_patterns_and_empty_values(app):
    with app.test_request_context(), force_locale("en"):
        assert format_local_date(date(2026, 11, 30), "EEEE") == "Monday"
        assert format_local_datetime(VALUES[0], "yyyy-MM-dd EEE") == "2026-12-01 Tue"
        assert format_local_date(None) == "" and format_local_datetime(None) == ""


def test_translated_labels_follow_the_language_and_cannot_be_changed(app):
    from portal.core.labels import SUBJECT_LABELS, translated

    with app.test_request_context():
        with force_locale("en"):
            english = translated(SUBJECT_LABELS)
            assert english["math"] == "Mathematics" and translated(SUBJECT_LABELS) is english
        with force_locale("zh_Hans"):
            chinese = translated(SUBJECT_LABELS)
            assert chinese["math"] == "数学"
        with force_locale("en"):
            assert translated(SUBJECT_LABELS)["math"] == "Mathematics"
        with pytest.raises(TypeError):
            english["math"] = "Maths"
