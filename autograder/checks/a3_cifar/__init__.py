"""Hidden checks of a3_cifar (TDT4265 assignment 3, CS498DL MP3 part 1B).

``evidence.py`` runs in the student's kernel; ``judges.py``, ``references.py`` and
``heldout.py`` only in the grading process. ``predictions.csv`` feeds the leaderboard.
"""

from autograder.checks.a3_cifar.heldout import prepare_grading, score_predictions
from autograder.leaderboard import LeaderboardSpec

LEADERBOARD = LeaderboardSpec(file_name="predictions.csv", metric="accuracy",
                              score=score_predictions)
HANDED_IN = ["improved_a.csv", "improved_b.csv"]

__all__ = ["HANDED_IN", "LEADERBOARD", "prepare_grading"]
