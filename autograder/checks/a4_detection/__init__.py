"""Hidden checks of a4_detection (UiB INF265 project 2): localisation loss, IoU, metrics, grid
encoding and decoding, detection loss, NMS, average precision, mAP, and the predictions CSV.

``evidence.py`` runs in the student's kernel; ``judges.py`` (with ``references.py`` and
``mistakes.py``), ``scoring.py`` and ``heldout.py`` only in the grading process.
``a4_detections.csv`` feeds the leaderboard.
"""

from autograder.checks.a4_detection.heldout import prepare_grading, score_predictions
from autograder.checks.a4_detection.scoring import CSV_NAME
from autograder.leaderboard import LeaderboardSpec

LEADERBOARD = LeaderboardSpec(file_name=CSV_NAME, metric="mAP@0.5", score=score_predictions)

__all__ = ["LEADERBOARD", "prepare_grading"]
