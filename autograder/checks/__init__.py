"""Hidden checks, one package per assignment (``autograder.checks.a3_cifar`` ...).

Each holds ``evidence.py`` (called by the hidden test cells in the student's kernel, inside the
sandbox) and, on the grading side only, ``judges.py`` (pytest checks of the evidence),
``references.py`` and, where a predictions CSV is graded, ``heldout.py``. See
:mod:`autograder.assignment_kit`.
"""
