"""Which dataset an assignment uses: one setting, never an edit of the notebook.

Each assignment reads one environment variable, ``VISLAB_<A1..A4>_DATASET`` (for example
``VISLAB_A3_DATASET=cifar10``); unset, it uses its embedded default.
"""

import os
from collections.abc import Iterable


def dataset_variable(assignment_id: str) -> str:
    """The variable that chooses the dataset of ``assignment_id``.

    >>> dataset_variable("a3_cifar")
    'VISLAB_A3_DATASET'
    """
    return f"VISLAB_{assignment_id.split('_')[0].upper()}_DATASET"


def chosen_dataset(assignment_id: str, choices: Iterable[str], default: str,
                   name: str | None = None, folder_allowed: bool = False) -> str:
    """``name``, else the assignment's variable, else ``default``, checked against ``choices``.

    With ``folder_allowed`` a value that is not one of ``choices`` is returned as it is: the
    caller reads it as a folder of the user's own images.

    >>> chosen_dataset("a3_cifar", ["textured-digits", "cifar10"], "textured-digits", "cifar10")
    'cifar10'
    """
    variable = dataset_variable(assignment_id)
    choice = (name or os.environ.get(variable, "")).strip() or default
    choices = list(choices)
    if choice not in choices and not folder_allowed:
        raise ValueError(f"{variable}={choice!r} is not a dataset of {assignment_id}; choose one "
                         f"of {', '.join(choices)}")
    return choice
