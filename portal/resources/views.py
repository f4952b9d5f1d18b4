"""(being written)"""

from . import social_views  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
