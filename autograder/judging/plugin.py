"""The pytest plugin of the judges: their fixtures, their marker, their options.

A judge is a plain pytest test in ``autograder/checks/<id>/judges.py``::

    @pytest.mark.cell("test_conv_by_hand")
    def test_conv_by_hand(evidence):
        answer = evidence("conv_by_hand")
        assert answer["convention"] in CONVENTIONS, "set `convention` to ..."

- ``@pytest.mark.cell(grade_id)`` names the test cell whose points it decides (several judges
  may share a cell: the cell scores only if all of them pass);
- ``evidence(name)`` is the record the hidden cell wrote in the kernel (a dict; arrays as
  numpy); a missing record fails the judge with words saying that the check never ran;
- ``submission`` is the folder the student handed in (the grading side's untouched copy), for
  judges of handed-in files such as a predictions CSV;
- ``heldout_key`` unlocks the held-out labels (:mod:`autograder.heldout.store`): the
  instructor's key, or the public demo key with ``--demo-key``;
- ``credit(points)`` gives the cell partial credit: it scores those points (capped at the
  cell's) instead of all of them, when every judge of the cell passes;
- an ``assert``'s message is what the student reads: what was expected, in words.

Run by the grading process through :func:`autograder.judging.verdicts.judge_submission`; an
instructor runs the same suite by hand on one submission::

    pytest -p autograder.judging.plugin autograder/checks/a3_cifar/judges.py \\
        --evidence grading/evidence/<student> --submission grading/submitted/<student>/a3_cifar
"""

from pathlib import Path

import pytest

from autograder.heldout.key import DEMO_KEY, HeldoutKey, load_key
from autograder.judging.evidence_reader import Evidence, read_evidence

CREDIT = "credit"


class MissingEvidence(AssertionError):
    """The hidden part of a test cell never ran, so nothing reached the grader."""


def pytest_addoption(parser):
    group = parser.getgroup("vislab judges")
    group.addoption("--evidence", type=Path, default=None,
                    help="folder of one submission's evidence records (<name>.json/.npz)")
    group.addoption("--submission", type=Path, default=None,
                    help="folder the student handed in (notebook, CSVs, runs/)")
    group.addoption("--demo-key", action="store_true",
                    help="read the held-out labels made with the public demo key")


def pytest_configure(config):
    config.addinivalue_line("markers", "cell(grade_id): the test cell whose points this judge "
                                       "decides")


@pytest.fixture(scope="session")
def evidence_records(request) -> Evidence:
    folder = request.config.getoption("--evidence")
    return read_evidence(folder) if folder else Evidence()


@pytest.fixture
def evidence(evidence_records):
    """``evidence(name)`` -> the record ``name`` as a dict; fails the judge when it is missing."""
    def get(name: str) -> dict:
        if name not in evidence_records.records:
            raise MissingEvidence(
                "this check never ran: the cell stopped before its hidden part (see the error "
                "above it), or its result could not be read")
        return evidence_records.records[name]

    return get


@pytest.fixture(scope="session")
def submission(request) -> Path:
    folder = request.config.getoption("--submission")
    if folder is None:
        pytest.fail("this judge reads the handed-in files: pass --submission FOLDER")
    return Path(folder)


@pytest.fixture(scope="session")
def heldout_key(request) -> HeldoutKey:
    return DEMO_KEY if request.config.getoption("--demo-key") else load_key()


@pytest.fixture
def credit(request):
    """``credit(points)``: the cell scores ``points`` (partial credit) when its judges pass."""
    def give(points: float) -> None:
        request.node.user_properties.append((CREDIT, float(points)))

    return give
