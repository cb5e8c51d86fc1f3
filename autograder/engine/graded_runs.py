"""Which content each graded student's grades come from: a table in nbgrader's database.

``vislab_graded_runs`` lives next to nbgrader's own tables, on the gradebook's URL (SQLite by
default, any URL nbgrader supports), created with SQLAlchemy:

====================  ===========================================================
assignment, student   the primary key
content_hash          :func:`autograder.engine.content_hash.submission_hash` (hex)
graded_at             when the row was written (UTC)
====================  ===========================================================

A row is a promise: the student's grades, evidence copy, autograded notebook, feedback and run
record all come from that content. Grading a student deletes its row before it writes anything
and writes it back after everything else, each in a transaction of its own, so a crash at any
point leaves either a student whose outputs match the row, or no row (the student is graded
again on the next run).
"""

from datetime import UTC, datetime

from nbgrader.api import Gradebook
from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, delete, insert, select

TABLE_NAME = "vislab_graded_runs"
_METADATA = MetaData()
GRADED_RUNS = Table(
    TABLE_NAME, _METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("graded_at", DateTime, nullable=False),
)


class GradedRuns:
    """The table on ``db_url`` (created if missing). Use as a context manager, or ``close()``."""

    def __init__(self, db_url: str):
        with Gradebook(db_url):  # nbgrader's tables first: it stamps only a database it creates
            pass
        self.engine = create_engine(db_url)
        _METADATA.create_all(self.engine, checkfirst=True)

    def hashes(self, assignment: str) -> dict[str, str]:
        """student -> content hash of every student of ``assignment`` with a row."""
        query = select(GRADED_RUNS.c.student, GRADED_RUNS.c.content_hash).where(
            GRADED_RUNS.c.assignment == assignment)
        with self.engine.connect() as connection:
            return dict(connection.execute(query).all())

    def forget(self, assignment: str, student: str) -> None:
        """Delete the student's row (committed): from now on, the student is graded again."""
        with self.engine.begin() as connection:
            connection.execute(delete(GRADED_RUNS).where(GRADED_RUNS.c.assignment == assignment,
                                                         GRADED_RUNS.c.student == student))

    def record(self, assignment: str, student: str, content_hash: str) -> None:
        """Write the student's row (replacing one already there) in one transaction."""
        with self.engine.begin() as connection:
            connection.execute(delete(GRADED_RUNS).where(GRADED_RUNS.c.assignment == assignment,
                                                         GRADED_RUNS.c.student == student))
            connection.execute(insert(GRADED_RUNS).values(
                assignment=assignment, student=student, content_hash=content_hash,
                graded_at=datetime.now(UTC).replace(tzinfo=None)))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "GradedRuns":
        return self

    def __exit__(self, *_) -> None:
        self.close()
