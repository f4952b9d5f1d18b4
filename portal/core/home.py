"""The home page is assembled from panels that each capability registers.

A panel function takes the current user and returns a dict for ``templates/home/_panel.html``
(``title``, ``items`` of ``{"text", "url", "hint"}``, optional ``empty`` text), or None
when it has nothing for this person.
"""

from __future__ import annotations

from collections.abc import Callable

PANELS: list[tuple[int, Callable]] = []


def home_panel(order: int):
    def decorator(fn):
        PANELS.append((order, fn))
        PANELS.sort(key=lambda item: item[0])
        return fn

    return decorator


def panels_for(user) -> list[dict]:
    result = []
    for _order, fn in PANELS:
        panel = fn(user)
        if panel:
            result.append(panel)
    return result
