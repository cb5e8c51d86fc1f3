"""The judges: hidden pytest checks over a submission's evidence, run only in the grading process.

- :mod:`autograder.judging.evidence_reader` reads the records a sandbox wrote (JSON and .npz,
  never pickle), with limits;
- :mod:`autograder.judging.plugin` is the pytest plugin that gives judges their fixtures
  (``evidence``, ``submission``, ``credit``) and the ``cell`` marker;
- :mod:`autograder.judging.verdicts` runs an assignment's judges through pytest's API and turns
  their outcomes into points per test cell.
"""
