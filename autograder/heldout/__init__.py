"""Held-out test labels, on the grading side only.

- :mod:`autograder.heldout.key`: the instructor's secret that the embedded test splits are made
  from (students never get it, so they cannot rebuild the labels);
- :mod:`autograder.heldout.store`: the labels themselves, in a folder no sandbox sees, each file
  sealed with an HMAC of the key that the grading side checks before it trusts them.
"""
