"""Writing Kaggle CSVs and rejecting each kind of bad file with a message that says what to fix."""

import pytest

from autograder.predictions_csv import InvalidPredictions, read_predictions
from vislab import grading
from vislab.kaggle import write_predictions

IDS = [0, 1, 2]


def _read(tmp_path, text, **kwargs):
    path = tmp_path / "p.csv"
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return read_predictions(path, ["Category"], IDS, **kwargs)


def test_a_written_file_reads_back_in_id_order(tmp_path):
    write_predictions(tmp_path / "p.csv", [2, 0, 1], {"Category": [5, 3, 4]})
    frame = read_predictions(tmp_path / "p.csv", ["Category"], IDS, allowed_values=range(10))
    assert frame["Category"].tolist() == [3, 4, 5]


def test_write_refuses_columns_of_the_wrong_length(tmp_path):
    with pytest.raises(ValueError, match="one prediction per test image"):
        write_predictions(tmp_path / "p.csv", IDS, {"Category": [1, 2]})


def test_nothing_is_written_under_nbgrader(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", grading.AUTOGRADE)
    write_predictions(tmp_path / "p.csv", IDS, {"Category": [1, 2, 3]})
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("text, message", [
    ("Id,Label\n0,1\n1,1\n2,1\n", "header"),
    ("Id,Category\n0,1\n1,1\n", "no row for 1 test ids"),
    ("Id,Category\n0,1\n1,1\n1,1\n2,1\n", "more than once"),
    ("Id,Category\n0,1\n1,1\n2,1\n7,1\n", "not test images"),
    ("Id,Category\n0,1\n1,\n2,1\n", "NaN"),
    ("Id,Category\n0,1\n1,11\n2,1\n", "outside"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a readable CSV"),
    ("", "not a readable CSV"),
    (b"\xef\xbb\xbfId,Category\n0,1\n1,1\n2,1\n", "byte-order mark"),
    ("Id;Category\n0;1\n1;1\n2;1\n", "separates its columns with ';'"),
    ("Id,Category\n0.0,1\n1.0,1\n2.0,1\n", r"ids as decimals \('0.0'\)"),
])
def test_each_fault_has_its_own_message(tmp_path, text, message):
    with pytest.raises(InvalidPredictions, match=message):
        _read(tmp_path, text, allowed_values=range(10))


def test_scores_outside_the_range_are_rejected(tmp_path):
    with pytest.raises(InvalidPredictions, match=r"outside \[0.0, 1.0\].*probabilities"):
        _read(tmp_path, "Id,Category\n0,0.5\n1,1.5\n2,0.1\n", value_range=(0.0, 1.0))


def test_infinite_scores_are_named_as_such(tmp_path):
    with pytest.raises(InvalidPredictions, match=r"infinite values \(inf\) at ids \['1'\]"):
        _read(tmp_path, "Id,Category\n0,0.5\n1,inf\n2,0.1\n", value_range=(0.0, 1.0))


def test_a_missing_file_says_how_to_make_it(tmp_path):
    with pytest.raises(InvalidPredictions, match="was not handed in"):
        read_predictions(tmp_path / "nope.csv", ["Category"], IDS)


def test_an_inf_among_class_labels_names_its_id(tmp_path):
    with pytest.raises(InvalidPredictions, match=r"infinite values \(inf\) at ids \['2'\]"):
        _read(tmp_path, "Id,Category\n0,6\n1,3\n2,inf\n", allowed_values=range(10))


def test_a_link_is_never_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("Id,Category\nthe instructor's key\n")
    (tmp_path / "p.csv").symlink_to(secret)
    with pytest.raises(InvalidPredictions, match="not a plain file") as failure:
        read_predictions(tmp_path / "p.csv", ["Category"], IDS)
    assert "key" not in str(failure.value)
