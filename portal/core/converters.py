"""URL converters. Object ids are ASCII digits within a 32-bit integer, so a 20-digit id
or a full-width digit is simply "not found" instead of an overflow or an alias.

The pattern itself admits only 1 … 2**31 - 1 without leading zeros: an id refused later, in
``to_python``, would let Werkzeug answer 405 where a rule of another method shares the path
(``GET /api/v1/communities/0/members``) instead of 404."""

from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1


class IdConverter(BaseConverter):
    regex = (
        r"(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
        r"|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])"
    )
    weight = 50

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))
