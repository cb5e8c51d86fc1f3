"""The grading engine: each submission's sandboxed run is one Dask task.

- :mod:`~autograder.engine.task`: the task a Dask worker runs (plain data in, plain data out;
  it never touches the gradebook or the work folder);
- :mod:`~autograder.engine.file_trees`: folders as ``{relative path: bytes}``, how a submission
  travels to a worker and how its evidence comes back;
- :mod:`~autograder.engine.cluster`: the Dask client, on a local cluster or on an existing one
  (``--scheduler``), and the CPU share of one sandbox;
- :mod:`~autograder.engine.dispatch`: sending tasks (a bounded number in flight) and handing the
  results to the grading process as they arrive, with a progress bar;
- :mod:`~autograder.engine.content_hash`, :mod:`~autograder.engine.graded_runs` and
  :mod:`~autograder.engine.run_record`: what makes re-running ``grade`` resume (the content a
  student's grades come from, kept in the gradebook's database, and the verdicts, seconds and
  reasons of each graded run).

The grading process (:mod:`autograder.grade`) is the only writer of the gradebook.
"""
