"""Password policy (ASVS 6.2): length, no composition rules, no common or context words."""

from __future__ import annotations

import unicodedata

from ..core.errors import Invalid
from ..core.i18n import lazy_gettext as _l

MIN_LENGTH = 8
MAX_LENGTH = 256

# Offline list: the commonest passwords, plus words people here reach for first.
COMMON = frozenset(
    """123456 12345678 123456789 1234567890 12345678910 password password1 passw0rd qwerty qwerty123
    qwertyuiop 11111111 00000000 88888888 66666666 12341234 abc12345 abcd1234 a1234567 1q2w3e4r
    1qaz2wsx iloveyou admin123 administrator welcome1 woaini1314 woaini520 5201314520 aa123456
    asdfghjkl zxcvbnm123 jiaoyan123 jiaoyu123 jiaoshi123 xuexiao123 laoshi123 xiaozhang123
    chengxiang123 portal123 demo1234 changeme letmein1 sunshine1 football1 baseball1 princess1""".split()
)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def check_password_policy(password: str, *, username: str = "", name: str = "") -> None:
    """Raise Invalid with a message for the person when the password is not acceptable."""
    if len(password) < MIN_LENGTH:
        raise Invalid(_l("The password must have at least %(n)d characters.", n=MIN_LENGTH), field="password")
    if len(password) > MAX_LENGTH:
        raise Invalid(_l("The password must have at most %(n)d characters.", n=MAX_LENGTH), field="password")
    if "\x00" in password:
        raise Invalid(_l("The password contains a character that is not allowed."), field="password")
    folded = _normalise(password)
    if folded in COMMON or len(set(folded)) < 3:
        raise Invalid(_l("This password is too common or too simple; choose another."), field="password")
    for word in (username, name):
        if word and len(word) >= 3 and _normalise(word) in folded:
            raise Invalid(_l("The password must not contain your username or name."), field="password")
