"""Display labels for the portal's enumerations. The database keeps codes; the catalogue
keeps words, so every reader sees them in their own language."""

from flask_babel import lazy_gettext as _l

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
