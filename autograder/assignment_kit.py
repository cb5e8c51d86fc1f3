"""What the grading process knows about one assignment, and what its sandbox may see.

An assignment ``<id>`` has one notebook, ``assignments/<id>/<id>.ipynb`` (the nbgrader source),
and a checks package ``autograder/checks/<id>/``:

- ``evidence.py``: what its hidden test cells call in the student's kernel (mounted in the
  sandbox, read-only, and the only part of the package that is);
- ``judges.py``: the hidden pytest checks that turn evidence into points (grading side only);
- ``__init__.py``: ``prepare_grading(key)`` (build the released data and the held-out labels
  before any sandbox starts), ``HANDED_IN`` (files judged from the handed-in folder) and, for
  an assignment with a predictions CSV, ``LEADERBOARD = LeaderboardSpec(...)``.

Inside a sandbox the kernel sees ``vislab`` (the package notebooks import), the evidence module
and its runtime (:mod:`autograder.evidence`), and the released data (``cache/datasets``,
``cache/checkpoints``): never the judges, the references, the held-out labels or the gradebook.
"""

import compileall
import importlib
import importlib.util
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

import nbformat

from autograder.heldout.key import HeldoutKey
from autograder.notebook_cells import autograded_points, read_notebook
from autograder.sandbox.job import Mount
from vislab.paths import REPO_ROOT, cache_dir

CHECKS = REPO_ROOT / "autograder" / "checks"
#: the modules of ``autograder`` a graded kernel imports (each imports no other of them)
KERNEL_MODULES = ("evidence.py", "undrawn_figures.py")
#: environment variables of the grading machine that a graded notebook also sees
PASSED_VARIABLES = ("VISLAB_A1_DATASET", "VISLAB_A2_DATASET", "VISLAB_A3_DATASET",
                    "VISLAB_A4_DATASET", "VISLAB_RESNET18_WEIGHTS")
#: folders of the cache that hold released data (never the held-out labels)
RELEASED_CACHE = ("datasets", "checkpoints")
#: variables that may name a file or folder outside the cache that a graded notebook reads
FILES_READ_IN_PLACE = ("VISLAB_RESNET18_WEIGHTS", "VISLAB_A2_DATASET")
#: the file in which a real dataset's loader records the folder it reads in place
ROOT_RECORD = "root.txt"


@dataclass(frozen=True)
class AssignmentKit:
    assignment_id: str
    source_dir: Path
    checks_dir: Path

    @property
    def notebook_name(self) -> str:
        return self.assignment_id

    @cached_property
    def source(self) -> nbformat.NotebookNode:
        return read_notebook(self.source_dir / f"{self.notebook_name}.ipynb")

    @cached_property
    def test_cell_points(self) -> dict[str, float]:
        """grade_id -> points of every test cell of the source notebook, in notebook order."""
        return autograded_points(self.source)

    @property
    def judges(self) -> Path:
        return self.checks_dir / "judges.py"

    @property
    def evidence(self) -> Path:
        return self.checks_dir / "evidence.py"

    @cached_property
    def declarations(self) -> ModuleType | None:
        """The checks package's ``__init__`` (``prepare_grading``, ``LEADERBOARD``), if any."""
        if self.checks_dir == CHECKS / self.assignment_id:
            return importlib.import_module(f"autograder.checks.{self.assignment_id}")
        init = self.checks_dir / "__init__.py"
        if not init.exists():
            return None
        spec = importlib.util.spec_from_file_location(f"checks_{self.assignment_id}", init)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    @property
    def leaderboard(self):
        """The checks package's ``LEADERBOARD`` (:class:`autograder.leaderboard.LeaderboardSpec`)."""
        return getattr(self.declarations, "LEADERBOARD", None)

    @property
    def handed_in_files(self) -> list[str]:
        """Files a submission must hand in next to its notebook (the checks package's
        ``HANDED_IN`` and the leaderboard's CSV): their absence is named in the grade table."""
        files = list(getattr(self.declarations, "HANDED_IN", []))
        return files + ([self.leaderboard.file_name] if self.leaderboard else [])

    def prepare(self, key: HeldoutKey) -> None:
        """Build what grading needs (released data, held-out labels) once, before any sandbox."""
        prepare = getattr(self.declarations, "prepare_grading", None)
        if prepare is not None:
            prepare(key)

    def mounts(self, empty_file: Path) -> list[Mount]:
        """The read-only views a sandbox of this assignment gets (``empty_file``: an empty file
        on the host, mounted over package ``__init__`` files so they import nothing).

        ``vislab`` is byte-compiled here first (only what changed): in its read-only view a
        kernel could not keep what it compiles, and would compile the package on every run."""
        compileall.compile_dir(REPO_ROOT / "vislab", quiet=2)
        inside_checks = CHECKS / self.assignment_id
        views = [Mount(REPO_ROOT / "vislab", REPO_ROOT / "vislab"),
                 *(Mount(REPO_ROOT / "autograder" / name, REPO_ROOT / "autograder" / name)
                   for name in KERNEL_MODULES),
                 Mount(empty_file, CHECKS / "__init__.py"),
                 Mount(empty_file, inside_checks / "__init__.py"),
                 Mount(self.evidence.resolve(), inside_checks / "evidence.py")]
        cache = cache_dir().resolve()
        for name in RELEASED_CACHE:  # mounted even when empty: the kernel sees them read-only and
            (cache / name).mkdir(parents=True, exist_ok=True)  # cannot create them itself
            views.append(Mount(cache / name, cache / name))
        for variable in FILES_READ_IN_PLACE:  # ImageNet weights, a folder of one's own images
            path = Path(os.environ.get(variable, "")).expanduser()
            if os.environ.get(variable) and path.exists():
                views.append(Mount(path.resolve(), path.resolve()))
        return views + [Mount(folder, folder) for folder in _real_dataset_folders(cache)]

    def kernel_env(self) -> dict[str, str]:
        """The environment of a graded kernel: autograde mode, the cache, the chosen datasets."""
        passed = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
        return {"NBGRADER_EXECUTION": "autograde", "VISLAB_CACHE": str(cache_dir().resolve()),
                **passed}


def _real_dataset_folders(cache: Path) -> list[Path]:
    """Folders of real datasets read in place (``datasets.py prepare NAME --from DIR`` records
    them in ``cache/datasets/<name>/root.txt``), so that a graded notebook can read them too."""
    records = sorted((cache / "datasets").glob(f"*/{ROOT_RECORD}"))
    folders = {Path(record.read_text().strip()).resolve() for record in records}
    return sorted(folder for folder in folders if folder.is_dir())


def assignment_kit(assignment_id: str, assignments_dir: Path,
                   checks_dir: Path | None = None) -> AssignmentKit:
    """The kit of ``assignment_id``; ``checks_dir`` defaults to ``autograder/checks/<id>``."""
    return AssignmentKit(assignment_id, Path(assignments_dir) / assignment_id,
                         Path(checks_dir or CHECKS / assignment_id))
