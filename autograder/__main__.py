"""``python -m autograder``: build assignments, grade a class, show the leaderboard, run the demo."""

import argparse
import sys
from pathlib import Path

import pandas as pd

from autograder.build import build_assignment
from autograder.course import CourseError, assignment_ids
from vislab.paths import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="regenerate starter/ and solutions/ from assignments/")
    build.add_argument("ids", nargs="*", help="assignment ids (default: all)")
    build.add_argument("--out", type=Path, default=None,
                       help="write <out>/starter/<id> and <out>/solutions/<id> instead of the "
                            "repository's starter/ and solutions/ (to preview a build)")

    grade = commands.add_parser("grade", help="grade every submission of a class")
    grade.add_argument("id", help="assignment id, e.g. a3_cifar")
    grade.add_argument("--submissions", required=True, type=Path,
                       help="folder with one sub-folder per student: <student>/<id>.ipynb + files")
    grade.add_argument("--workers", type=int, default=1,
                       help="worker processes of the local Dask cluster, one sandbox each "
                            "(not used with --scheduler)")
    grade.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                       help="run the sandboxes on an existing Dask cluster (started with "
                            "`dask scheduler` and `dask worker tcp://HOST:PORT`) instead of a "
                            "local one")
    grade.add_argument("--force", action="store_true",
                       help="grade every submission again, also those graded before from the "
                            "same files, assignment and kit version (skipped by default)")
    grade.add_argument("--workdir", type=Path, default=Path("grading"),
                       help="grading work folder (gradebook, feedback, tables); default grading/")
    grade.add_argument("--cell-timeout", type=int, default=None,
                       help="seconds one cell may run while grading (default 180)")
    grade.add_argument("--demo-key", action="store_true",
                       help="grade on the kit's public demo test split instead of the one made "
                            "with your key (`python datasets.py secret`): its labels are public")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run student code without a sandbox, with your rights (the grade "
                            "table says so); only where no sandbox can start")

    board = commands.add_parser("leaderboard", help="print the leaderboard of a graded class")
    board.add_argument("id")
    board.add_argument("--workdir", type=Path, default=Path("grading"))

    demo = commands.add_parser("demo", help="grade a simulated class of a3_cifar end to end")
    demo.add_argument("--workdir", type=Path, default=Path("grading/demo"))
    demo.add_argument("--workers", type=int, default=2)

    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            out = args.out.resolve() if args.out else REPO_ROOT
            for assignment_id in args.ids or assignment_ids():
                build_assignment(assignment_id, out / "starter", out / "solutions")
                print(f"built {out / 'starter' / assignment_id} and "
                      f"{out / 'solutions' / assignment_id}")
        elif args.command == "grade":
            from autograder.grade import grade_class

            table = grade_class(args.id, args.submissions, args.workdir, args.workers,
                                cell_timeout=args.cell_timeout, demo_key=args.demo_key,
                                unsafe_no_sandbox=args.unsafe_no_sandbox,
                                scheduler=args.scheduler, force=args.force)
            print_results(args.id, table, args.workdir)
        elif args.command == "leaderboard":
            path = args.workdir / f"{args.id}_leaderboard.csv"
            if not path.exists():
                raise CourseError(f"{path} does not exist: grade the class first "
                                  f"(python -m autograder grade {args.id} --submissions DIR)")
            print(pd.read_csv(path).to_string(index=False))
        elif args.command == "demo":
            from autograder.demo import run_demo

            table = run_demo(args.workdir, args.workers)
            print_results("a3_cifar", table, args.workdir)
    except (CourseError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: every student is either graded or left for the next run; run the "
              "same command again to resume", file=sys.stderr)
        return 130
    return 0


def print_results(assignment_id: str, table: pd.DataFrame, workdir: Path) -> None:
    """The grade table (points per cell), the leaderboard and where the files are."""
    shown = table.drop(columns=["feedback"]).set_index("student")
    with pd.option_context("display.width", 200, "display.max_columns", 50,
                           "display.max_colwidth", 90):
        print("\nGrades (points per graded cell):")
        print(shown.drop(columns=["reason"]).T.to_string())
        reasons = shown["reason"][shown["reason"] != ""]
        if len(reasons):
            print("\nNotes:")
            for student, reason in reasons.items():
                print(f"- {student}: {reason}")
        board = workdir / f"{assignment_id}_leaderboard.csv"
        if board.exists():
            print("\nLeaderboard:")
            print(pd.read_csv(board).to_string(index=False, na_rep=""))
    print(f"\nGrade table:   {workdir / f'{assignment_id}_grades.csv'}")
    if board.exists():
        print(f"Leaderboard:   {board}")
    print(f"Feedback HTML: {workdir / 'feedback'}/<student>/{assignment_id}/")
    print(f"Class report:  {workdir / f'{assignment_id}_report.html'}")
    print(f"Gradebook:     {workdir / 'gradebook.db'} (open with nbgrader formgrader)")


if __name__ == "__main__":
    sys.exit(main())
