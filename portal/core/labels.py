"""Display labels for the portal's enumerations. The database keeps codes; the catalogue
keeps words, so every reader sees them in their own language."""

from types import MappingProxyType

from markupsafe import escape

from .i18n import lazy_gettext as _l
from .i18n import translations

ROLE_LABELS = {
    "bureau": _l("Bureau admin"),
    "researcher": _l("Teaching researcher"),
    "principal": _l("Principal"),
    "teacher": _l("Teacher"),
}

SCHOOL_KIND_LABELS = {
    "urban": _l("Urban school"),
    "township": _l("Township school"),
    "village": _l("Village school"),
    "teaching_point": _l("Teaching point"),
}

STAGE_LABELS = {
    "primary": _l("Primary"),
    "junior": _l("Junior secondary"),
    "nine_year": _l("Nine-year school"),
    "senior": _l("Senior secondary"),
    "twelve_year": _l("Twelve-year school"),
}

SEMESTER_LABELS = {"autumn": _l("Autumn semester"), "spring": _l("Spring semester")}

TITLE_LABELS = {
    "none": _l("No title"),
    "third": _l("Teacher, third grade"),
    "second": _l("Teacher, second grade"),
    "first": _l("Teacher, first grade"),
    "senior": _l("Senior teacher"),
    "professor": _l("Professor-level senior teacher"),
}

SUBJECT_LABELS = {
    "chinese": _l("Chinese"),
    "math": _l("Mathematics"),
    "english": _l("English"),
    "physics": _l("Physics"),
    "chemistry": _l("Chemistry"),
    "biology": _l("Biology"),
    "morality": _l("Morality and law"),
    "history": _l("History"),
    "geography": _l("Geography"),
    "science": _l("Science"),
    "music": _l("Music"),
    "pe": _l("Physical education"),
    "art": _l("Art"),
    "it": _l("Information technology"),
    "psychology": _l("Mental health"),
    "labour": _l("Labour education"),
    "calligraphy": _l("Calligraphy"),
    "other": _l("Other"),
}

GRADE_LABELS = {
    1: _l("Grade 1"), 2: _l("Grade 2"), 3: _l("Grade 3"), 4: _l("Grade 4"),
    5: _l("Grade 5"), 6: _l("Grade 6"), 7: _l("Grade 7"), 8: _l("Grade 8"),
    9: _l("Grade 9"), 10: _l("Grade 10"), 11: _l("Grade 11"), 12: _l("Grade 12"),
}


def label(mapping: dict, code) -> str:
    return str(mapping.get(code, code))


# (id of a catalogue above, id of a language's translations, escaped) -> (both, the translated labels).
_TRANSLATED: dict[tuple[int, int, bool], tuple] = {}


def translated(mapping: dict, *, escaped: bool = False) -> MappingProxyType:
    """A label catalogue in the request's language, for a page whose rows repeat its labels (each
    translated once rather than once per row); ``escaped``: each label escaped for HTML, for pages
    that write their rows' markup themselves. Made once per catalogue and language in this
    process (the words do not change while it runs; a dozen labels cost ~0.1 ms a page) and
    read-only, since every page shares it."""
    catalogue = translations()
    key = (id(mapping), id(catalogue), escaped)
    found = _TRANSLATED.get(key)
    if found is None or found[0] is not mapping or found[1] is not catalogue:
        if len(_TRANSLATED) >= 256:  # only the catalogues above are meant: never more than a few dozen
            _TRANSLATED.clear()
        found = _TRANSLATED[key] = (mapping, catalogue, MappingProxyType(
            {code: str(escape(text)) if escaped else str(text) for code, text in mapping.items()}))
    return found[2]

COMMUNITY_KIND_LABELS = {"teacher": _l("Famous-teacher communities (名师+)"), "principal": _l("Famous-principal communities (名校长+)")}
COMMUNITY_LEVEL_LABELS = {"city": _l("City level"), "county": _l("County level")}
MEMBER_ROLE_LABELS = {"leader": _l("Leader"), "core": _l("Core member"), "member": _l("Member")}
MEMBERSHIP_STATUS_LABELS = {
    "pending": _l("Waiting for approval"),
    "active": _l("Member"),
    "declined": _l("Declined"),
    "left": _l("Left"),
    "removed": _l("Removed"),
}
ACTIVITY_KIND_LABELS = {
    "seminar": _l("Theme seminar"),
    "lesson_polishing": _l("Lesson polishing"),
    "training": _l("Special training"),
    "online_research": _l("Online teaching research"),
    "diagnosis": _l("Teaching diagnosis"),
    "demonstration": _l("Demonstration lesson"),
    "governance_forum": _l("Rural principals' governance forum"),
    "school_tour": _l("Rural school tour"),
}
PROJECT_STATUS_LABELS = {
    "proposed": _l("Proposed"),
    "in_progress": _l("In progress"),
    "concluded": _l("Concluded"),
    "suspended": _l("Suspended"),
}
PROJECT_LEVEL_LABELS = {
    "school": _l("School level"),
    "county": _l("County level"),
    "city": _l("City level"),
    "province": _l("Provincial level"),
    "national": _l("National level"),
}
COMMUNITY_KIND_SHORT = {"teacher": _l("Famous teacher+"), "principal": _l("Famous principal+")}

PARTNERSHIP_KIND_LABELS = {
    "multi": _l("Famous school + several schools"),
    "new_school": _l("Famous school + new school"),
    "weak_school": _l("Famous school + weak school"),
    "rural_school": _l("Famous school + rural school"),
    "central_points": _l("Township central school + teaching points"),
    "group": _l("Education group"),
    "trusteeship": _l("Trusteeship"),
    "cluster": _l("Rural cluster"),
}
PAIRING_ACTIVITY_LABELS = {
    "send_lessons": _l("Sending lessons to the countryside"),
    "shadowing": _l("Shadow placement"),
    "joint_research": _l("Joint teaching research"),
    "secondment": _l("Cadre secondment"),
    "rotation": _l("Teacher rotation"),
    "shared_lesson": _l("Shared lesson"),
    "visit": _l("Visit"),
    "other": _l("Other"),
}
EXCHANGE_KIND_LABELS = {
    "rotation": _l("Rotation"),
    "support": _l("Support teaching"),
    "shadowing": _l("Shadow placement"),
    "secondment": _l("Secondment"),
    "travelling": _l("Travelling teacher"),
}
VISIT_KIND_LABELS = {
    "guidance": _l("Teaching guidance"),
    "observation": _l("Lesson observation"),
    "research": _l("Joint research"),
    "training": _l("Training"),
    "other": _l("Other"),
}

RESOURCE_KIND_LABELS = {
    "lesson_plan": _l("Lesson plan"),
    "courseware": _l("Courseware"),
    "micro_lesson": _l("Micro-lesson"),
    "exercise": _l("Exercises"),
    "lesson_case": _l("Recorded lesson case"),
    "learning_guide": _l("Learning guide"),
    "other": _l("Other"),
}
VISIBILITY_LABELS = {
    "public": _l("Everyone in the portal"),
    "community": _l("Chosen communities"),
    "pairing": _l("Schools of a chosen partnership"),
    "private": _l("Only me"),
}
EDITION_LABELS = {
    "pep": _l("People's Education Press (人教版)"),
    "bnu": _l("Beijing Normal University Press (北师大版)"),
    "jiangsu": _l("Jiangsu Education (苏教版)"),
    "beijing": _l("Beijing Press (北京版)"),
    "shanghai": _l("Shanghai Education (沪教版)"),
    "hunan": _l("Hunan Education (湘教版)"),
    "other": _l("Other edition"),
}

# Lesson observations (听课评课)
OBSERVATION_KIND_LABELS = {
    "drop_in": _l("Drop-in lesson (推门课)"),
    "open": _l("Open lesson (公开课)"),
    "standard": _l("Standard-check lesson (达标课)"),
    "demonstration": _l("Demonstration lesson (示范课)"),
    "live": _l("Live dual-teacher lesson (双师课堂)"),
    "recording": _l("Recorded lesson (录像课)"),
}
OBSERVATION_GRADE_LABELS = {"excellent": _l("Excellent (优)"), "good": _l("Good (良)"),
                            "fair": _l("Fair (中)"), "poor": _l("Poor (差)")}
OBSERVATION_STATUS_LABELS = {"draft": _l("Draft"), "final": _l("Final")}
