"""The partnerships blueprint, shared by the feature's view modules."""

from flask import Blueprint

bp = Blueprint("partnerships", __name__)
