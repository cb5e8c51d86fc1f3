"""The handed-in time of a staged submission: nbgrader's timestamp.txt, kept when it parses,
otherwise the newest modification time of the handed-in files, the same on every staging."""

import os
from datetime import datetime

from autograder.submission_time import TIMESTAMP_FILE, read_submission_time, stamp_submission


def _folder(tmp_path, timestamp=None):
    folder = tmp_path / "staged"
    folder.mkdir(parents=True)
    for name, seconds in [("a.ipynb", 1_700_000_000), ("runs.json", 1_700_000_500)]:
        (folder / name).write_text("{}")
        os.utime(folder / name, (seconds, seconds))
    if timestamp is not None:
        (folder / TIMESTAMP_FILE).write_text(timestamp)
    return folder


def test_without_a_timestamp_the_newest_file_sets_the_time(tmp_path):
    folder = _folder(tmp_path)
    stamped = stamp_submission(folder)
    assert stamped == datetime(2023, 11, 14, 22, 21, 40)  # 1_700_000_500 s, naive UTC
    assert read_submission_time(folder) == stamped
    assert stamp_submission(folder) == stamped  # staging again writes the same time


def test_nbgraders_own_timestamp_is_kept(tmp_path):
    folder = _folder(tmp_path, "2026-11-02 09:30:00.000000 UTC")
    assert stamp_submission(folder) == datetime(2026, 11, 2, 9, 30)


def test_a_timestamp_that_does_not_parse_is_replaced(tmp_path):
    for index, bad in enumerate(["not a time", "\xff\xfe", "9" * 5000]):
        folder = _folder(tmp_path / str(index), bad)
        assert stamp_submission(folder) == datetime(2023, 11, 14, 22, 21, 40), bad


def test_a_folder_named_timestamp_txt_is_replaced_by_the_file(tmp_path):
    folder = _folder(tmp_path)
    (folder / TIMESTAMP_FILE).mkdir()
    (folder / TIMESTAMP_FILE / "inside").write_text("x")
    stamped = stamp_submission(folder)
    assert (folder / TIMESTAMP_FILE).is_file() and read_submission_time(folder) == stamped
