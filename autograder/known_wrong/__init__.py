"""Known-wrong answers, one module per assignment: mistakes students really make, as cell sources.

Each module lists ``KNOWN_WRONG`` (a name -> :class:`KnownWrong`) and ``CLASS`` (student -> the
names of the mistakes in that student's notebook). The check tests run each mistake against the
hidden checks; the grading tests and the demo grade notebooks that contain them; both read the
same sources from here, so a mistake is written once.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KnownWrong:
    """One mistake, as the source of the solution cell a student would write.

    ``cell`` is the grade_id of the solution cell it replaces; ``check`` the hidden check that
    must fail on it (and no other check of that cell), with ``words`` in its message. When the
    mistake is put into a graded notebook, ``zeroes`` maps every test cell that must then score 0
    to words its feedback must contain (every other test cell keeps its points).
    """

    cell: str
    source: str
    check: str
    words: str
    zeroes: dict[str, str] = field(default_factory=dict)


def class_sources(known_wrong: dict[str, KnownWrong], students: dict[str, list[str]],
                  ) -> dict[str, dict[str, str]]:
    """student -> {grade_id: source} of the cells to replace in the reference submission."""
    return {student: {known_wrong[name].cell: known_wrong[name].source.strip() for name in names}
            for student, names in students.items()}


def expected_zeroes(known_wrong: dict[str, KnownWrong], names: list[str]) -> dict[str, str]:
    """test cell -> feedback words, for a notebook holding the mistakes ``names``."""
    return {cell: words for name in names for cell, words in known_wrong[name].zeroes.items()}
