"""Hidden checks of a1_multilabel (IN5400 mandatory 1, CS498DL MP3 part 1).

``evidence.py`` runs in the student's kernel; ``judges.py``, ``references.py`` and
``heldout.py`` only in the grading process. ``predictions.csv`` feeds the leaderboard.
"""

from autograder.checks.a1_multilabel.heldout import CSV_FILE, prepare_grading, score_predictions
from autograder.leaderboard import LeaderboardSpec

LEADERBOARD = LeaderboardSpec(file_name=CSV_FILE, metric="mAP", score=score_predictions)

__all__ = ["LEADERBOARD", "prepare_grading"]
