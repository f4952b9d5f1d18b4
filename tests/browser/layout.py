"""Layout checks shared by the browser tests."""

from __future__ import annotations

_STICKING_OUT = (
    "w => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w)"
    ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
)


def fits(page, width: int) -> None:
    """The document never scrolls sideways at ``width``; wide tables scroll inside their .table-wrap.

    Waits for the page to finish loading first (right after a click the old document may still be going
    away: CI once read a null documentElement), and names the first elements that stick out when it fails.
    """
    page.wait_for_load_state()
    scroll = page.evaluate("document.documentElement.scrollWidth")
    wide = [] if scroll <= width else page.evaluate(_STICKING_OUT, width)
    assert scroll <= width, f"{page.url} scrolls sideways at {width} px: scrollWidth {scroll}, {wide}"
