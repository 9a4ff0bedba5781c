"""The executed course in docs/course/: how scripts/render_course.py makes it; the committed copies are current."""

from __future__ import annotations

import base64
import importlib.util
import io
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
# A 2x1-pixel, 2-frame GIF: enough for IPython.display.Image(filename=...) to emit an image/gif output.
TINY_GIF = base64.b64decode(
    "R0lGODlhAgABAIEAAAAAAAAAAAAAAAAAACH/C05FVFNDQVBFMi4wAwEAAAAh+QQACgAAACwAAAAAAgABAAAIBQABAAgIACH5BAEKAAEALAAAAAAC"
    "AAEAgf///wAAAAAAAAAAAAgFAAEACAgAOw=="
)


def _script():
    spec = importlib.util.spec_from_file_location("render_course", REPO / "scripts" / "render_course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def _notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed: the script records git commits")
def test_render_writes_header_gif_and_index_and_keeps_the_last_good_copy(tmp_path, monkeypatch):
    render = _script()
    repo = tmp_path / "repo"
    notebooks, out = repo / "notebooks", repo / "docs" / "course"
    notebooks.mkdir(parents=True)
    (notebooks / "tiny.gif").write_bytes(TINY_GIF)
    # One kernel for both cells: the kernel must be in full mode, start in notebooks/, and show the GIF by path.
    nbformat.write(_notebook(
        "import os, sys\nfrom IPython.display import Image, display\n"
        "print(os.environ.get('GANLIB_QUICK'), os.path.basename(os.getcwd()), flush=True)\n"
        "display(Image(filename='tiny.gif'))\n"
        "sys.stderr.write('I0000 00:00:1796072640.772639   24151 port.cc:153] oneDNN custom operations\\nkept\\n')"),
        notebooks / "01_ok.ipynb")
    nbformat.write(_notebook("raise ValueError('a broken cell')"), notebooks / "02_bad.ipynb")
    nbformat.write(_notebook("1"), notebooks / "03_never_rendered.ipynb")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "notebooks")
    out.mkdir(parents=True)
    previous = out / "02_bad.ipynb"
    last_good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("the last good copy")])
    nbformat.write(last_good, previous)
    monkeypatch.setenv("GANLIB_QUICK", "1")

    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        status = render.main(["--only", "01", "02", "--notebooks", str(notebooks), "--out", str(out)])

    assert status == 1
    assert "02_bad.ipynb failed" in stderr.getvalue() and "a broken cell" in stderr.getvalue()
    assert nbformat.read(previous, as_version=4) == last_good
    assert (notebooks / "runs" / "failed" / "02_bad.ipynb").exists()

    nb = nbformat.read(out / "01_ok.ipynb", as_version=4)
    info = nb.metadata[render.META_KEY]
    commit = _git(repo, "log", "-1", "--format=%H", "--", "notebooks/01_ok.ipynb")
    assert info["source_commit"] == commit and not info["source_dirty"]
    header = nb.cells[0]
    assert header.cell_type == "markdown" and header.source.startswith(render.HEADER_MARK)
    assert commit in header.source and "notebooks/01_ok.ipynb" in header.source and "UTC" in header.source
    assert f"{info['cpu_count']} CPU cores" in header.source and f"TensorFlow {info['tensorflow']}" in header.source
    outputs = nb.cells[1].outputs
    assert outputs[0].text == "None notebooks\n"  # GANLIB_QUICK removed from the kernel; cwd = notebooks/
    html = outputs[1].data["text/html"]
    assert "image/gif" not in outputs[1].data and info["gifs_embedded"] == 1
    assert base64.b64decode(html.split("base64,")[1].split('"')[0]) == TINY_GIF
    assert outputs[2].name == "stderr" and outputs[2].text == "kept\n" and info["log_lines_dropped"] == 1
    assert not nbformat.read(notebooks / "01_ok.ipynb", as_version=4).cells[0].outputs  # the source stays clean

    index = (out / "README.md").read_text()
    assert f"[01_ok](01_ok.ipynb) | {info['date']}" in index and commit[:7] in index
    # the failed notebook's old copy has no header: listed with the one never rendered, not in the table
    assert "02_bad" not in index.split("Not executed yet")[0]
    assert "`02_bad.ipynb`, `03_never_rendered.ipynb`." in index.split("Not executed yet")[1]

    assert render.stale_reason(info, notebooks / "01_ok.ipynb") is None
    nbformat.write(_notebook("2"), notebooks / "01_ok.ipynb")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "edit 01")
    assert "01_ok.ipynb changed since" in render.stale_reason(info, notebooks / "01_ok.ipynb")
    assert "Out of date" in render.build_index(notebooks, out)


def test_only_rejects_unknown_numbers(tmp_path):
    render = _script()
    nbformat.write(_notebook("1"), tmp_path / "01_a.ipynb")
    with pytest.raises(ValueError, match=r"Received: --only 1 09"):
        render.course_notebooks(tmp_path, ["01", "1", "09"])
    assert [p.name for p in render.course_notebooks(tmp_path, ["01"])] == ["01_a.ipynb"]


def _rendered_copies() -> list[Path]:
    return sorted(p for p in (REPO / "docs" / "course").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("copy", _rendered_copies(), ids=lambda p: p.name)
def test_rendered_copy_has_header_outputs_and_is_current(copy):
    """Each committed executed copy opens with its header, holds outputs, and no commit changed its source since."""
    render = _script()
    source = REPO / "notebooks" / copy.name
    assert source.exists(), f"{copy.name} has no source notebook in notebooks/: delete the copy or rename it"
    nb = nbformat.read(copy, as_version=4)
    info = nb.metadata.get(render.META_KEY)
    assert info is not None and nb.cells[0].source.startswith(render.HEADER_MARK), (
        f"{copy.name} was not written by scripts/render_course.py (no header): run make course")
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{copy.name} has no outputs"
    if shutil.which("git") is None:
        pytest.skip("git is not installed: cannot compare the copy's source commit with the notebook's history")
    try:
        reason = render.stale_reason(info, source)
    except LookupError as error:
        pytest.skip(f"cannot tell whether {copy.name} is current: {error}")
    assert reason is None, (f"docs/course/{copy.name} is out of date: {reason}. "
                            f"Run: python scripts/render_course.py --only {copy.name[:2]}")
