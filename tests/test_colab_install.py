"""The notebooks' Colab install cell: one cell for the whole course, a ref that exists, a URL form that installs.

Every notebook's first code cell installs ganlib in Colab with
``pip install "ganlib @ git+https://github.com/ganlib/ganlib[@GANLIB_REF]"``. A release that pins a tag or commit
in ``GANLIB_REF`` must pin one that this repository has (``git rev-parse``), and every notebook must pin the same one;
``""`` installs the default branch. The last test installs ganlib exactly that way, from a local clone instead of
GitHub (``git+file://``), into an empty folder, and runs notebook 01's first cells on the installed copy.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
URL = "git+https://github.com/ganlib/ganlib"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _code_cells(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _ref(source: str) -> str:
    """The value the install cell assigns to GANLIB_REF (a string literal)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "GANLIB_REF" for t in node.targets):
            assert isinstance(node.value, ast.Constant) and isinstance(node.value.value, str), source
            return node.value.value
    raise AssertionError(f"no GANLIB_REF = '...' in the install cell:\n{source}")


def test_every_notebook_opens_with_the_same_install_cell():
    assert len(NOTEBOOKS) >= 10, NOTEBOOKS
    cells = {path.name: _code_cells(path)[0] for path in NOTEBOOKS}
    first = cells[NOTEBOOKS[0].name]
    assert URL in first and '"google.colab" in sys.modules' in first, first
    assert {name for name, cell in cells.items() if cell != first} == set()


@needs_git
def test_the_pinned_ref_exists_in_the_repository():
    ref = _ref(_code_cells(NOTEBOOKS[0])[0])
    if ref:  # a release pins a tag or a commit: it must resolve here, or every Colab install fails
        found = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                               capture_output=True, text=True)
        assert found.returncode == 0, f"GANLIB_REF = {ref!r} is not a tag or commit of this repository"


@needs_git
def test_the_colab_url_form_installs_ganlib_and_runs_notebook_01s_first_cells(tmp_path):
    # The repository as Colab's pip sees it: its committed files only (a clone), reached through a git+ URL.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"file://{REPO}", str(clone)], check=True)  # not shallow: pip fetches from it
    install = _code_cells(NOTEBOOKS[0])[0]
    ref = _ref(install)
    requirement = f"ganlib @ git+file://{clone}" + (f"@{ref}" if ref else "")
    target = tmp_path / "site"
    # --no-deps: the dependencies are this environment's (Colab has TensorFlow); what is tested is ganlib's own files.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), requirement],
                   check=True, capture_output=True, text=True, timeout=300)
    cells = _code_cells(NOTEBOOKS[0])
    probe = "\n".join([
        "import ganlib, pathlib, sys",
        f"assert pathlib.Path(ganlib.__file__).is_relative_to({str(target)!r}), ganlib.__file__",
        # the installed package carries its data: the shipped classifier's weights
        "assert any((pathlib.Path(ganlib.__file__).parent / 'weights').iterdir())",
        *cells[1:3],  # the imports cell and the first computation: quick mode
        "print('ran', ganlib.__version__ if hasattr(ganlib, '__version__') else '')",
    ])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(target), GANLIB_QUICK="1", MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ran" in done.stdout
