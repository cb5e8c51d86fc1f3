"""Grading a4 end to end with nbgrader: the sample submission, the unchanged starter, wrong answers.

The sample submission (``autograder/samples/a4_detection``) is the executed solution notebook with
its ``runs/`` and ``a4_detections.csv``. Graded, nothing retrains. The wrong submission holds the
two known-wrong answers the issue names, each in its own cell: a loss that applies the box term to
images without a digit (which also breaks the detection loss built on it), and a conversion that
swaps x and y (which also breaks the decoding built on it). It loses exactly those cells' points,
each with a message naming the cause.
"""


import pytest

from autograder.grade import grade_class
from autograder.samples import autograded_points, sample_class
from vislab.a4_detection.data import load_detection

ID = "a4_detection"

BOX_LOSS_ON_EMPTY_IMAGES = '''
def localization_loss(y_hat, y, box_weight=1.0):
    present = y[:, 0] == 1
    loss = F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0])
    loss = loss + box_weight * F.mse_loss(y_hat[:, 1:5], y[:, 1:5])
    if present.any():
        loss = loss + F.cross_entropy(y_hat[present, 5:], y[present, 5].long())
    return loss
'''

X_AND_Y_SWAPPED = '''
IMAGE_HEIGHT, IMAGE_WIDTH = 48, 60


def to_pixel_xyxy(boxes):
    scale = torch.tensor([IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_WIDTH], dtype=torch.float)
    return box_convert(boxes.float() * scale, in_fmt="cxcywh", out_fmt="xyxy")


def to_relative_cxcywh(boxes):
    scale = torch.tensor([IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_WIDTH], dtype=torch.float)
    return box_convert(boxes.float(), in_fmt="xyxy", out_fmt="cxcywh") / scale
'''

#: cell replaced -> (its source, the test cells it must zero, what the feedback says)
WRONG_CELLS = {
    "localization_loss": (BOX_LOSS_ON_EMPTY_IMAGES,
                          {"test_localization_loss": "applied to the empty image too",
                           "test_detection_loss": "applied to cells without a digit"}),
    "box_conversions": (X_AND_Y_SWAPPED,
                        {"test_box_conversions": "are x and y swapped",
                         "test_decode_grid": "x and y look swapped"}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    load_detection()  # build the embedded data and held-out boxes once, before the kernels run
    wrong = {cell: source.strip() for cell, (source, _) in WRONG_CELLS.items()}
    submissions = sample_class(ID, tmp_path_factory.mktemp("a4_class"), {"wrong": wrong})
    workdir = tmp_path_factory.mktemp("a4_work")
    table = grade_class(ID, submissions, workdir, workers=2, progress=False)
    return table.set_index("student"), workdir


def test_sample_submission_gets_every_autograded_point(graded):
    table, _ = graded
    row = table.loc["solution"]
    assert row["status"] == "graded", row["reason"]
    for grade_id, points in autograded_points(ID).items():
        assert row[grade_id] == points, grade_id


def test_unchanged_starter_scores_zero_without_stopping(graded):
    table, _ = graded
    row = table.loc["starter"]
    assert row["status"] == "graded"
    assert all(row[grade_id] == 0 for grade_id in autograded_points(ID))


def test_each_known_wrong_answer_loses_exactly_its_points(graded):
    table, _ = graded
    lost = {grade_id for _, cells in WRONG_CELLS.values() for grade_id in cells}
    for grade_id, points in autograded_points(ID).items():
        expected = 0 if grade_id in lost else points
        assert table.loc["wrong", grade_id] == expected, grade_id


def test_feedback_names_each_cause_without_test_code(graded):
    _, workdir = graded
    html = (workdir / "feedback" / "wrong" / ID / f"{ID}.html").read_text()
    for _, cells in WRONG_CELLS.values():
        for grade_id, cause in cells.items():
            assert cause in html, grade_id
    assert "BEGIN HIDDEN TESTS" not in html and "most recent call last" not in html
    assert "MARK SCHEME" not in html


def test_leaderboard_lists_the_sample_and_the_starter_without_a_file(graded):
    _, workdir = graded
    board = (workdir / f"{ID}_leaderboard.csv").read_text()
    assert "solution" in board and "a4_detections.csv was not handed in" in board
