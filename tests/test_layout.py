"""The layout's rules, read from the source: the import graph of ``vislab`` and ``autograder``.

- no import cycle between modules (lazy imports inside functions count too);
- the shared core of ``vislab`` never imports an assignment subpackage (``vislab.a1_*`` ...);
- ``vislab`` (what student notebooks import) never imports ``autograder`` (the grading side);
- an assignment's ``evidence.py``, and each module of ``autograder`` a graded kernel imports,
  imports only what its sandbox holds: the standard library, numpy, torch, torchvision, IPython,
  ``vislab`` and ``autograder.evidence``.
"""

import ast
import sys
from pathlib import Path

import pytest

from autograder.assignment_kit import KERNEL_MODULES
from vislab.paths import REPO_ROOT

PACKAGES = ("vislab", "autograder")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES
            for path in sorted((REPO_ROOT / package).rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules that ``path`` imports anywhere in its body (``from a import b`` counts
    as ``a.b`` when ``a.b`` is a module, else as ``a``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules, or ``None``."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def is_assignment_package(module: str) -> bool:
    parts = module.split(".")
    return len(parts) > 1 and parts[0] == "vislab" and parts[1][:1] == "a" and parts[1][1:2].isdigit()


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_core_never_imports_an_assignment_subpackage():
    wrong = {module: sorted(filter(is_assignment_package, imported))
             for module, imported in import_graph().items()
             if module.startswith("vislab") and not is_assignment_package(module)}
    assert {module: found for module, found in wrong.items() if found} == {}


def test_the_student_side_never_imports_the_grading_side():
    wrong = {module: sorted(name for name in imported if name.startswith("autograder"))
             for module, imported in import_graph().items() if module.startswith("vislab")}
    assert {module: found for module, found in wrong.items() if found} == {}


def test_every_assignment_has_its_subpackage_and_nothing_else_is_one():
    assignments = sorted(p.name for p in (REPO_ROOT / "assignments").iterdir() if p.is_dir())
    subpackages = sorted(p.name for p in (REPO_ROOT / "vislab").iterdir()
                         if is_assignment_package(f"vislab.{p.name}") and p.is_dir())
    assert subpackages == assignments


#: what a sandbox holds besides the standard library (see ``autograder.assignment_kit``)
SANDBOX_IMPORTS = ("numpy", "torch", "torchvision", "IPython", "vislab", "autograder.evidence")
EVIDENCE_MODULES = sorted((REPO_ROOT / "autograder" / "checks").glob("*/evidence.py"))


@pytest.mark.parametrize("path", EVIDENCE_MODULES
                         + [REPO_ROOT / "autograder" / name for name in KERNEL_MODULES],
                         ids=lambda path: str(path.relative_to(REPO_ROOT / "autograder")))
def test_a_kernel_side_module_imports_only_what_the_sandbox_holds(path):
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    outside = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names
               and not any(name == allowed or name.startswith(allowed + ".")
                           for allowed in SANDBOX_IMPORTS)}
    assert outside == set()


def test_every_assignment_has_an_evidence_module():
    assert [path.parent.name for path in EVIDENCE_MODULES] == sorted(
        p.name for p in (REPO_ROOT / "assignments").iterdir() if p.is_dir())
