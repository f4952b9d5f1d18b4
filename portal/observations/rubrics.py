"""Rubric templates: the default one (the bureau's lesson routine), new versions when the bureau
edits one, checking scores against the version a record uses, and the weighted total."""

from __future__ import annotations

import logging
import re

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..core.authz import BUREAU, has_role
from ..core.errors import Invalid, NotAllowed, NotFound
from ..core.i18n import lazy_gettext as _l
from ..core.locking import StaleEdit, lock_row
from ..core.sanitize import clean_text
from ..extensions import db
from .models import RubricTemplate

audit = logging.getLogger("portal.audit")

DEFAULT_FAMILY = "default"
MAX_DIMENSIONS = 20
MAX_LEVELS = 11
SCORE_LOW, SCORE_HIGH = 0, 100  # the widest range a dimension may use
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")

_LEVELS_1_5 = [{"score": 5, "label": "优"}, {"score": 4, "label": "良"}, {"score": 3, "label": "中"},
               {"score": 2, "label": "差"}, {"score": 1, "label": "未达到"}]


def _dim(code: str, label: str, weight: int, description: str) -> dict:
    return {"code": code, "label": label, "weight": weight, "min": 1, "max": 5,
            "description": description, "levels": [dict(level) for level in _LEVELS_1_5]}


# The bureau documents' lesson routine (教学常规); labels are the bureau's own words (data, edited
# by the bureau, so not translated). Weights sum to 100.
DEFAULT_DIMENSIONS = [
    _dim("objectives", "教学目标", 10, "体现课标与教材特点，面向全体学生；明确、具体、符合学情"),
    _dim("content", "教学内容/进度", 15, "教材处理得当，重点突出、难点突破；容量和难度适当；进度符合教学计划"),
    _dim("ideology", "课程思政", 10, "结合学科特点自然融入思想品德与价值引领"),
    _dim("process", "教学过程", 20, "结构清晰，活动有效，学生参与度高，节奏与时间安排合理"),
    _dim("methods", "教学方法", 15, "启发式、以学生为主体，因材施教，反馈及时；恰当使用现代教育技术"),
    _dim("effect", "教学效果", 15, "学生掌握重点，达成目标，思维与能力得到发展"),
    _dim("craft", "教师素养", 15, "教态语言规范，板书工整合理，驾驭课堂能力强"),
]


def can_edit_rubrics(user) -> bool:
    """The bureau keeps the rubric templates (city and county staff alike)."""
    return has_role(user, BUREAU)


def default_template() -> RubricTemplate | None:
    return db.session.execute(
        select(RubricTemplate).where(RubricTemplate.is_default.is_(True), RubricTemplate.is_current.is_(True))
        .order_by(RubricTemplate.id.desc()).limit(1)
    ).scalar_one_or_none()


def ensure_default_template() -> RubricTemplate:
    """The template new records use; made (flushed, not committed) on first use."""
    template = default_template()
    if template is None:
        template = RubricTemplate(family=DEFAULT_FAMILY, version=1, name="课堂教学评价表",
                                  description="依据教学常规：教学目标、教学内容/进度、课程思政、教学过程、教学方法、教学效果、教师素养",
                                  dimensions=[dict(d) for d in DEFAULT_DIMENSIONS], is_current=True, is_default=True)
        try:
            with db.session.begin_nested():  # two first uses at once: (family, version) is unique
                db.session.add(template)
                db.session.flush()
        except IntegrityError:
            template = default_template()
            if template is None:
                raise
        else:
            audit.info("rubric template %s v1 seeded", DEFAULT_FAMILY)
    return template


# --- scores --------------------------------------------------------------------------------------


def check_scores(template: RubricTemplate, raw, *, field: str = "scores") -> dict[str, int]:
    """Scores as ``{dimension code: integer}``; unknown dimensions, non-integers and scores
    outside a dimension's range are refused. Missing dimensions are simply not scored yet."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Invalid(_l("Scores must be an object of dimension codes and numbers."), field=field)
    scores: dict[str, int] = {}
    for code, value in raw.items():
        dimension = template.dimension(code) if isinstance(code, str) else None
        if dimension is None:
            known = ", ".join(d["code"] for d in template.dimensions)
            raise Invalid(_l("%(code)s is not a dimension of this rubric (dimensions: %(known)s).",
                             code=str(code)[:40], known=known), field=field, details={"dimension": str(code)[:40]})
        if value is None or value == "":
            continue
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not dimension["min"] <= value <= dimension["max"]:
            raise Invalid(_l("The score for %(label)s must be a whole number from %(low)d to %(high)d.",
                             label=dimension["label"], low=dimension["min"], high=dimension["max"]),
                          field=field, details={"dimension": code})
        scores[code] = value
    return scores


def weighted_total(template: RubricTemplate, scores: dict[str, int]) -> float | None:
    """The weighted score out of 100 over the scored dimensions (None when nothing is scored):
    each dimension contributes its weight times how far up its range the score is."""
    weight_sum = 0.0
    total = 0.0
    for dimension in template.dimensions:
        if dimension["code"] not in scores:
            continue
        low, high, weight = dimension["min"], dimension["max"], dimension["weight"]
        weight_sum += weight
        total += weight * (scores[dimension["code"]] - low) / (high - low) if high > low else weight
    if weight_sum <= 0:
        return None
    return round(100 * total / weight_sum, 1)


def level_label(dimension: dict, score: int | None) -> str:
    for level in dimension.get("levels") or []:
        if level.get("score") == score:
            return level.get("label", "")
    return ""


# --- editing -------------------------------------------------------------------------------------


def _int(value, name: str, low: int, high: int, row: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(_l("Dimension %(row)d: %(name)s must be a whole number from %(low)d to %(high)d.",
                         row=row, name=name, low=low, high=high), field="dimensions")
    return value


def parse_levels(text: str, row: int) -> list[dict]:
    """Levels written as ``5=优; 4=良; 3=中`` (the form's text box)."""
    levels = []
    for part in re.split(r"[;；\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        score, sep, label = part.partition("=")
        if not sep:
            score, sep, label = part.partition("＝")
        if not sep or not label.strip():
            raise Invalid(_l("Dimension %(row)d: write levels as score=label, e.g. 5=优; 4=良.", row=row),
                          field="dimensions")
        levels.append({"score": _int(score, "level", SCORE_LOW, SCORE_HIGH, row), "label": label.strip()})
    return levels


def check_dimensions(raw: list[dict]) -> list[dict]:
    """A template's dimensions, each checked: code (a-z, 0-9, _), label, weight 1–100, a score
    range within 0–100 with min < max, levels inside the range; codes unique."""
    if not isinstance(raw, list) or not raw:
        raise Invalid(_l("A rubric needs at least one dimension."), field="dimensions")
    if len(raw) > MAX_DIMENSIONS:
        raise Invalid(_l("A rubric has at most %(n)d dimensions.", n=MAX_DIMENSIONS), field="dimensions")
    seen: set[str] = set()
    dimensions = []
    for row, item in enumerate(raw, start=1):
        code = (item.get("code") or "").strip().lower()
        if not _CODE.match(code):
            raise Invalid(_l("Dimension %(row)d: the code must be lower-case letters, digits or _ (e.g. objectives).",
                             row=row), field="dimensions")
        if code in seen:
            raise Invalid(_l("Dimension %(row)d: the code %(code)s is used twice.", row=row, code=code),
                          field="dimensions")
        seen.add(code)
        label = clean_text(item.get("label"), max_length=40)
        if not label:
            raise Invalid(_l("Dimension %(row)d needs a name.", row=row), field="dimensions")
        weight = _int(item.get("weight"), "weight", 1, 100, row)
        low = _int(item.get("min"), "min", SCORE_LOW, SCORE_HIGH, row)
        high = _int(item.get("max"), "max", SCORE_LOW, SCORE_HIGH, row)
        if low >= high:
            raise Invalid(_l("Dimension %(row)d: the lowest score must be below the highest.", row=row),
                          field="dimensions")
        levels = item.get("levels") or []
        if len(levels) > MAX_LEVELS:
            raise Invalid(_l("Dimension %(row)d has too many levels.", row=row), field="dimensions")
        for level in levels:
            if not low <= level["score"] <= high:
                raise Invalid(_l("Dimension %(row)d: level %(score)d is outside %(low)d–%(high)d.",
                                 row=row, score=level["score"], low=low, high=high), field="dimensions")
        dimensions.append({"code": code, "label": label, "weight": weight, "min": low, "max": high,
                           "description": clean_text(item.get("description"), max_length=200),
                           "levels": sorted(levels, key=lambda level: -level["score"])})
    return dimensions


def save_template_version(actor, template: RubricTemplate, *, name: str, description: str,
                          dimensions: list[dict]) -> RubricTemplate:
    """Edit a template: a new version of its family becomes current; records keep theirs."""
    if not can_edit_rubrics(actor):
        raise NotAllowed(_l("Only the bureau edits rubric templates."))
    # Under the row's lock: of two people saving the same version at once, the second waits, then
    # finds it is no longer current (core/locking.py).
    lock_row(template, reload=True)
    if not template.is_current:
        raise StaleEdit()
    name = clean_text(name, max_length=80)
    if not name:
        raise Invalid(_l("The rubric needs a name."), field="name")
    dimensions = check_dimensions(dimensions)
    last = db.session.execute(select(func.max(RubricTemplate.version))
                              .where(RubricTemplate.family == template.family)).scalar_one()
    db.session.execute(update(RubricTemplate).where(RubricTemplate.family == template.family)
                       .values(is_current=False))
    version = RubricTemplate(family=template.family, version=(last or 0) + 1, name=name,
                             description=clean_text(description, max_length=1000), dimensions=dimensions,
                             is_current=True, is_default=template.is_default, created_by_id=actor.id)
    db.session.add(version)
    db.session.flush()
    audit.info("user %s saved rubric %s version %s", actor.id, version.family, version.version)
    return version


def get_template(template_id: int) -> RubricTemplate:
    template = db.session.get(RubricTemplate, template_id)
    if template is None:
        raise NotFound(_l("No such rubric template."))
    return template
