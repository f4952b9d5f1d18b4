"""URL converters. Object ids are ASCII digits within a 32-bit integer, so a 20-digit id
or a full-width digit is simply "not found" instead of an overflow or an alias."""

from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1


class IdConverter(BaseConverter):
    regex = r"[0-9]{1,10}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))
