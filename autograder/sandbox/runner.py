"""Execute one notebook cell by cell (inside the sandbox), recording after every cell.

Run as ``python -I -m autograder.sandbox.runner --notebook NB --state DIR --cell-timeout-s S
--notebook-timeout-s S --max-output-bytes N --ready-fd FD [--kernel-arg=ARG ...] [--leave-kernel]``
in the folder that is to be the kernel's working directory; it writes ``R`` to the inherited pipe
FD and closes it first thing. Each ``--kernel-arg`` is one more command-line option of the kernel.
``--leave-kernel``: the kernel is not shut down at the end, for a runner whose exit ends the
sandbox and every process in it (bwrap's pid namespace): 0.1 s sooner.
Imports only the standard library, nbformat and nbclient: inside the sandbox the kit's package
``__init__.py`` files are empty.

Like nbgrader's autograde, it runs every code cell in order in one ``python3`` kernel and goes
on after a cell's error. Besides:

- a cell past ``--cell-timeout-s`` is interrupted and gets an error output named
  ``CellTimeoutError``; the next cell runs if the kernel answers again within ``RECOVERY_S``,
  otherwise execution stops;
- when ``--notebook-timeout-s`` (counted from the runner's start) runs out, the running cell is
  interrupted, gets an error output named ``NotebookTimeoutError``, and execution stops;
- a cell keeps at most ``--max-output-bytes`` of output: the rest is dropped as it arrives (so
  a huge print never piles up in memory) and one note says so;
- if the kernel dies (``os._exit``, a segfault, the OOM killer), execution stops;
- a code cell whose metadata holds ``"vislab": {"not_graded": true}`` is not executed and keeps
  the outputs it has in ``--notebook`` (see :func:`not_re_run`). Only the grading side sets
  that marker, from the assignment's source notebook
  (:func:`autograder.graded_notebook.notebook_to_grade`), on cells no judge depends on.

Records in ``--state``, each replaced atomically (written to a temporary file, then renamed):

``executed.ipynb``
    The notebook so far (nbformat 4). Outputs of code cells not yet run are cleared, so a
    submitted notebook's own outputs never pass for executed ones (cells not to be re-run keep
    theirs, which the grading side labelled as saved ones).
``progress.json``
    ``{"cell_count": int, "cell": int | null, "status": str, "exit_code": int | null,
    "message": str | null}`` where ``cell`` indexes ``cells`` and ``status`` is one of
    ``starting`` (the kernel is starting), ``running`` (``cell`` runs now; ``executed.ipynb``
    holds every cell before it), ``finished`` (all cells ran), ``kernel_died`` (while ``cell``
    ran; ``exit_code`` is negative for a signal), ``cell_stuck`` (``cell`` timed out and the
    kernel did not answer after the interrupt), ``notebook_timeout`` (time ran out while
    ``cell`` ran), ``failed`` (the notebook could not be run; ``message`` says why).

The exit status is 0 whenever a final record was written.
"""

import argparse
import asyncio
import json
import math
import os
import sys
import time
from pathlib import Path
from queue import Empty

#: optional checkers of string formats that jsonschema imports when installed and no notebook
#: schema uses: rfc3987_syntax builds a grammar at import (0.8 s), the others take 0.03 s
UNUSED_FORMAT_CHECKERS = ("rfc3987_syntax", "fqdn", "idna", "rfc3986_validator",
                          "rfc3339_validator", "webcolors", "jsonpointer", "uri_template",
                          "isoduration")

if __name__ == "__main__":  # the runner's own process, started once per sandboxed run:
    for name in UNUSED_FORMAT_CHECKERS:  # nbformat imports jsonschema, jsonschema these
        sys.modules.setdefault(name, None)

import nbformat  # noqa: E402 (after the loop above)
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import DeadKernelError  # noqa: E402
from nbclient.util import ensure_async  # noqa: E402

RECOVERY_S = 10
TIMEOUT_MARKER = "autograder.sandbox.runner: cell timeout"  # no exception has this name
NOTE = "\n[output truncated: this cell's output passed the {:,} byte limit; the rest was dropped]\n"


class Records:
    """The runner's two record files in ``folder`` (formats in the module docstring)."""

    def __init__(self, folder: Path, cell_count: int):
        self.folder = folder
        self.cell_count = cell_count
        self.running: int | None = None  # the cell of the last "running" record
        self._cell_json: list[str] = []  # each cell as JSON, as last written
        self._rest_json = ""  # the notebook's other keys as JSON, without the braces

    def _replace(self, name: str, text: str) -> None:
        temporary = self.folder / f".{name}.partial"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.folder / name)

    def notebook(self, nb: nbformat.NotebookNode, changed: int | None = None) -> None:
        """Write ``nb``; when nothing but cell ``changed`` changed since the last call, only
        that cell is turned into JSON again (the saved outputs of cells not re-run and the
        saved widget state, most of a notebook's bytes, are not re-encoded after every cell)."""
        # plain JSON: written after every cell, it must be quick (nbformat.writes copies,
        # re-splits and validates the whole notebook: 7x slower on a 1 MB one); the host
        # validates what it reads
        if changed is None or len(self._cell_json) != len(nb.cells):
            self._cell_json = [json.dumps(cell) for cell in nb.cells]
            self._rest_json = json.dumps({key: value for key, value in nb.items()
                                          if key != "cells"})[1:-1]
        else:
            self._cell_json[changed] = json.dumps(nb.cells[changed])
        self._replace("executed.ipynb", '{"cells": [' + ", ".join(self._cell_json) + "]"
                      + (", " + self._rest_json if self._rest_json else "") + "}")

    def progress(self, status: str, cell: int | None = None, exit_code: int | None = None,
                 message: str | None = None) -> None:
        if status == "running":
            self.running = cell
        record = {"cell_count": self.cell_count, "cell": cell, "status": status,
                  "exit_code": exit_code, "message": message}
        self._replace("progress.json", json.dumps(record))


def not_re_run(cell) -> bool:
    """Whether ``cell`` is a code cell marked ``"vislab": {"not_graded": true}``: not executed,
    its outputs kept as they are."""
    marker = cell.get("metadata", {}).get("vislab")
    return cell.get("cell_type") == "code" and isinstance(marker, dict) \
        and marker.get("not_graded") is True


def _output_bytes(msg: dict) -> int:
    """Size of one output message's content (stream text as UTF-8, anything else as JSON)."""
    content = msg["content"]
    if msg["msg_type"] == "stream":
        return len(content.get("text", "").encode())
    return len(json.dumps(content))


class CappedNotebookClient(NotebookClient):
    """A NotebookClient that keeps at most ``max_output_bytes`` of output per cell.

    The budget counts what the cell holds now: a ``clear_output`` gives it back.
    ``timed_out`` tells whether the last cell ran past ``timeout`` (set by ``on_cell_executed``);
    ``others_changed`` whether, since it was last reset, something besides the running cell's
    outputs may have changed: an output with a display id (nbclient updates that display in
    every cell showing it) or a widget message (the widget state in the notebook's metadata).
    """

    def __init__(self, nb: nbformat.NotebookNode, max_output_bytes: int, **kw):
        super().__init__(nb, on_cell_executed=self._note_timeout,
                         error_on_timeout={"ename": TIMEOUT_MARKER, "evalue": "", "traceback": []},
                         **kw)
        self.max_output_bytes = max_output_bytes
        self.timed_out = False
        self.others_changed = False
        self._held: dict[int, int] = {}
        self._truncated: set[int] = set()

    def _note_timeout(self, cell, cell_index, execute_reply) -> None:
        self.timed_out = (execute_reply or {}).get("content", {}).get("ename") == TIMEOUT_MARKER

    def _forget(self, cell_index: int) -> None:
        self._held.pop(cell_index, None)
        self._truncated.discard(cell_index)

    def process_message(self, msg, cell, cell_index):
        transient = msg["content"].get("transient")
        self.others_changed |= bool(transient and transient.get("display_id"))
        return super().process_message(msg, cell, cell_index)

    def handle_comm_msg(self, outs, msg, cell_index):
        self.others_changed = True
        return super().handle_comm_msg(outs, msg, cell_index)

    def output(self, outs, msg, display_id, cell_index):
        if self.clear_before_next_output:
            self._forget(cell_index)
        size = _output_bytes(msg)
        held = self._held.get(cell_index, 0)
        if held + size <= self.max_output_bytes:
            self._held[cell_index] = held + size
            return super().output(outs, msg, display_id, cell_index)
        if cell_index in self._truncated:
            return None
        self._truncated.add(cell_index)
        self._held[cell_index] = self.max_output_bytes
        room = self.max_output_bytes - held
        if msg["msg_type"] == "stream" and room > 0:
            text = msg["content"]["text"].encode()[:room].decode(errors="ignore")
            super().output(outs, {**msg, "content": {**msg["content"], "text": text}},
                           display_id, cell_index)
        outs.append(nbformat.v4.new_output("stream", name="stderr",
                                           text=NOTE.format(self.max_output_bytes)))
        return None

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        if not msg["content"].get("wait"):
            self._forget(cell_index)

    async def kernel_answers(self, within_s: float) -> bool:
        """Whether the kernel replies to a kernel_info request within ``within_s`` seconds."""
        msg_id = await ensure_async(self.kc.kernel_info())
        deadline = time.monotonic() + within_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                reply = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
            except Empty:
                return False
            if reply["parent_header"].get("msg_id") == msg_id:
                return True
        return False


def _mark_timeout(cell: nbformat.NotebookNode, ename: str, evalue: str) -> None:
    """Replace the interrupt's KeyboardInterrupt output with one error output ``ename``."""
    cell.outputs = [out for out in cell.outputs
                    if not (out.output_type == "error" and out.ename == "KeyboardInterrupt")]
    cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                               traceback=[f"{ename}: {evalue}"]))


async def execute(client: CappedNotebookClient, records: Records, cell_timeout_s: float,
                  deadline: float, leave_kernel: bool) -> None:
    """Run every code cell of ``client.nb`` in order, recording after each (see module doc);
    then shut the kernel down, unless ``leave_kernel``."""
    nb = client.nb
    async with client.async_setup_kernel(cwd=os.getcwd(), cleanup_kc=not leave_kernel):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip() or not_re_run(cell):
                continue
            remaining = deadline - time.monotonic()
            notebook_bound = remaining < cell_timeout_s
            client.timeout = max(1, math.ceil(min(cell_timeout_s, remaining)))
            records.progress("running", index)
            try:
                await client.async_execute_cell(cell, index,
                                                execution_count=client.code_cells_executed + 1)
            except DeadKernelError:
                records.notebook(nb)
                exit_code = await client.km.provisioner.poll()
                records.progress("kernel_died", index, exit_code=exit_code)
                return
            stop = None
            if client.timed_out and notebook_bound:
                _mark_timeout(cell, "NotebookTimeoutError",
                              "the notebook ran out of time while this cell ran; it was interrupted")
                stop = "notebook_timeout"
            elif client.timed_out:
                _mark_timeout(cell, "CellTimeoutError",
                              f"this cell ran past the {cell_timeout_s:g} s limit per cell "
                              "and was interrupted")
                if not await client.kernel_answers(RECOVERY_S):
                    stop = "cell_stuck"
            client.set_widgets_metadata()
            records.notebook(nb, changed=None if client.others_changed else index)
            client.others_changed = False
            if stop:
                exit_code = await client.km.provisioner.poll()
                if exit_code is not None:
                    records.progress("kernel_died", index, exit_code=exit_code)
                else:
                    records.progress(stop, index)
                return
        records.progress("finished")


def _clear_outputs(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code" and not not_re_run(cell):
            cell.outputs = []
            cell.execution_count = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--cell-timeout-s", type=float, required=True)
    parser.add_argument("--notebook-timeout-s", type=float, required=True)
    parser.add_argument("--max-output-bytes", type=int, required=True)
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--kernel-arg", action="append", default=[])
    parser.add_argument("--leave-kernel", action="store_true")
    args = parser.parse_args(argv)
    os.write(args.ready_fd, b"R")  # before any kernel exists: the host's proof that we started
    os.close(args.ready_fd)
    deadline = time.monotonic() + args.notebook_timeout_s
    try:
        nb = nbformat.read(args.notebook, as_version=4)
    except Exception as error:  # any unreadable file: the record says why
        Records(args.state, 0).progress("failed", message=f"the notebook could not be read ({error})")
        return 0
    records = Records(args.state, len(nb.cells))
    _clear_outputs(nb)
    records.notebook(nb)
    records.progress("starting")
    # No coalesce_streams: nbclient's carriage-return regex is quadratic on one long line.
    client = CappedNotebookClient(nb, args.max_output_bytes, kernel_name="python3",
                                  allow_errors=True, interrupt_on_timeout=True,
                                  shutdown_kernel="immediate", extra_arguments=args.kernel_arg)
    try:
        asyncio.run(execute(client, records, args.cell_timeout_s, deadline, args.leave_kernel))
    except Exception as error:  # the kernel did not start, or nbclient failed: say so
        records.progress("failed", records.running, message=f"{type(error).__name__}: {error}")
    return 0


if __name__ == "__main__":
    status = main()
    # The last record is written (and the kernel shut down, unless left to the sandbox's end):
    # skip the interpreter's teardown (0.15-0.2 s of every run, mostly zmq and module cleanup),
    # nothing is left to flush.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
