"""The communities blueprint, shared by the feature's view modules."""

from flask import Blueprint

bp = Blueprint("communities", __name__)
