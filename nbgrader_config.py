"""nbgrader configuration of the vislab course.

The repository root is the course directory: ``assignments/`` holds the nbgrader source,
``starter/`` the release students get, ``solutions/`` the generated solutions. Everything a
real course produces while grading (submissions, autograded copies, feedback, the gradebook)
lives under ``grading/``, which git ignores; ``python -m autograder grade`` points nbgrader at a
work folder of its own with the same layout.
"""

import os
import sys
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    GetGrades,
    IncludeHeaderFooter,
    LockCells,
)

from autograder.feedback import KIT_TEMPLATES, NBGRADER_TEMPLATES
from autograder.feedback_math import MathToMathML
from autograder.feedback_summary import FeedbackSummary
from autograder.nbgrader_plugins import (
    ClearHiddenTestsOfTestCells,
    FitFiguresToPage,
    HideServerPaths,
    HideTestTracebacks,
    RefuseAutograde,
)

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "vislab"
c.CourseDirectory.source_directory = "assignments"
c.CourseDirectory.release_directory = "starter"
c.CourseDirectory.solution_directory = "solutions"
c.CourseDirectory.submitted_directory = "grading/submitted"
c.CourseDirectory.autograded_directory = "grading/autograded"
c.CourseDirectory.feedback_directory = "grading/feedback"
# the gradebook `grade` writes in its default work folder, or the shared one (README)
c.CourseDirectory.db_url = os.environ.get("VISLAB_GRADEBOOK_URL") or "sqlite:///grading/gradebook.db"
# formgrader started here in a fresh clone opens the gradebook before any `grade` made grading/:
# SQLite creates the file, but not its folder; and nbgrader creates a gradebook by running
# `alembic` from PATH, which lacks this environment's bin/ when jupyter is started by its path
Path(__file__).resolve().parent.joinpath("grading").mkdir(exist_ok=True)
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

# solutions/ is the worked solution without hidden tests, and is not executed while building
# (nbgrader's default would train every model of the notebook during a build)
c.GenerateSolution.preprocessors = [
    IncludeHeaderFooter,
    LockCells,
    ClearOutput,
    ClearHiddenTests,
    ClearMarkScheme,
]

# the starter's stub of a code answer: Validate and the feedback show its message, a line in words
c.ClearSolutions.code_stub = {"python": '# YOUR CODE HERE\nraise NotImplementedError('
                                        '"not done yet: write your code in place of this line")'}

# a cell may load a checkpoint or score a CSV; an infinite loop is stopped after this
c.Execute.timeout = 180

# formgrader shows a submission with the kit's copy of its page (autograder/templates/formgrade),
# which loads MathJax from the Jupyter server instead of a CDN; nbgrader's templates stay second,
# so `nbgrader generate_feedback` still finds its own
c.HTMLExporter.extra_template_basedirs = [str(KIT_TEMPLATES), str(NBGRADER_TEMPLATES)]
c.HTMLExporter.extra_template_paths = [str(NBGRADER_TEMPLATES)]

# grading runs through `python -m autograder grade` (a sandbox per submission, judges outside
# the kernel); plain `nbgrader autograde` would run student code unsandboxed and could not judge
# hidden tests that only collect evidence, so it refuses with a message saying what to run
c.Autograde.autograde_preprocessors = [RefuseAutograde]

# Validate (the only nbgrader command here that executes a notebook) reports each failed cell's
# error as one line (IPython's minimal exception mode), not a traceback into library internals
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--InteractiveShell.xmode=Minimal"]

# feedback never shows a hidden test's source or a traceback from a test cell; the grading
# process writes it with nbgrader's GenerateFeedback converter configured from this file
# (autograder.feedback), so these are the preprocessors of every feedback page
c.GenerateFeedback.preprocessors = [
    GetGrades,
    ClearHiddenTestsOfTestCells,
    HideTestTracebacks,
    HideServerPaths,
    MathToMathML,  # maths drawn by the browser: the page works offline
    CSSHTMLHeaderPreprocessor,
    FitFiguresToPage,
    FeedbackSummary,  # the kit's page template shows it at the top (autograder.feedback)
]
c.ClearHiddenTests.enforce_metadata = False

# a hand-graded answer cell holds the model answer and mark scheme for the TA in the source; the
# starter replaces the whole cell, and the solution drops the mark-scheme region
c.ClearMarkScheme.enforce_metadata = False
