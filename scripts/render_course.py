"""Execute the notebook course in full mode and write executed copies, with every output, to docs/course/.

Usage (from the repository root; ``make course`` runs the first line with the venv's interpreter):

    python scripts/render_course.py                 # every notebooks/NN_*.ipynb, in order
    python scripts/render_course.py --only 01 03    # a subset, by number
    python scripts/render_course.py --timeout 7200  # longest a single cell may run, in seconds

Each notebook is read into memory and executed with nbclient in a Jupyter kernel on this
interpreter (like nbval's ``--nbval-current-env``), with its working directory in notebooks/ so
that full-mode runs write to notebooks/runs/ (git-ignored) as they do for a student. The source
file is never written: notebooks/ stays without outputs. The kernel gets full mode
(``GANLIB_QUICK`` removed), an absolute ``GANLIB_DATA_DIR`` when one is set, and this checkout on
``PYTHONPATH``.

The executed copy gets a first markdown cell saying when (UTC), on what machine (CPU cores and
model, GPU, load average), with which Python, TensorFlow and Keras, in how much wall time, and
from which git commit of the source it was made; the same facts are in its metadata under
``ganlib_render`` (``tests/test_course.py`` checks them against ``git log``). A GIF that a cell
shows with ``IPython.display.Image`` is stored by Jupyter as an ``image/gif`` output, which
nbconvert's HTML templates (and so nbviewer) do not display; the copy stores it instead as an
HTML ``<img>`` whose source is the GIF's own bytes (a ``data:`` URI), which every renderer shows
and which needs no file beside the notebook. TensorFlow's C++ log lines in stderr outputs (such as
"failed call to cuInit" on a machine without a GPU) are left out of the copy; Python warnings stay.

A notebook that fails (a cell raises, or runs longer than ``--timeout``) is reported with its
name and the error, its previous executed copy is left as it was, and the command exits with
status 1 after the other notebooks; the partly executed notebook is kept in
notebooks/runs/failed/ for inspection. docs/course/README.md, the index of the executed copies
(date, wall time, source commit, and the notebooks that have none yet or whose copy is out of
date), is rewritten at the end of every run.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_PATTERN = re.compile(r"^(\d\d)_.+\.ipynb$")
META_KEY = "ganlib_render"
HEADER_MARK = "<!-- ganlib-render-header -->"  # first line of the header cell: how the tests recognise it
# TensorFlow's C++ log lines (absl format: I0000 00:00:1796.77 24151 port.cc:153] ...), which the kernel process
# writes to its stderr before TF_CPP_MIN_LOG_LEVEL takes effect, and absl's line that announces them.
NATIVE_LOG = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] .*"
                        r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)$")


def course_notebooks(notebooks_dir: Path, only: list[str] | None = None) -> list[Path]:
    """The course's notebooks ``NN_*.ipynb`` in ``notebooks_dir``, in teaching order.

    Args:
        notebooks_dir: the folder of the source notebooks.
        only: two-digit numbers (``["01", "03"]``) to keep; None keeps every notebook.

    Returns:
        The notebook paths, sorted by name (the number first).

    Raises:
        ValueError: a number in ``only`` that is not two digits or matches no notebook.
    """
    found = sorted(p for p in notebooks_dir.glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))
    if only is None:
        return found
    numbers = {p.name[:2] for p in found}
    wrong = [n for n in only if not re.fullmatch(r"\d\d", n) or n not in numbers]
    if wrong:
        raise ValueError(
            f"Expected two-digit notebook numbers among {sorted(numbers)}. Received: --only {' '.join(wrong)}"
        )
    return [p for p in found if p.name[:2] in set(only)]


def _git(repo: Path, *args: str) -> str | None:
    """``git -C repo args`` stdout, stripped; None when git is missing or the command fails."""
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def source_state(path: Path) -> tuple[str | None, bool]:
    """The last git commit that changed ``path``, and whether ``path`` has uncommitted changes.

    Returns:
        ``(commit, dirty)``: the full hash (None when git is missing, ``path`` is outside a git
        checkout, or it was never committed), and True when the working copy differs from HEAD.
    """
    folder = path.resolve().parent
    commit = _git(folder, "log", "-1", "--format=%H", "--", path.name) or None
    status = _git(folder, "status", "--porcelain", "--", path.name)
    return commit, bool(status)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> list[str]:
    """NVIDIA GPUs as listed by ``nvidia-smi -L`` (the only GPUs TensorFlow uses on Linux)."""
    if shutil.which("nvidia-smi") is None:
        return []
    done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
    return [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict:
    """What a reader needs to judge the run times: CPU, GPU, operating system and software versions.

    Read without importing TensorFlow (versions from the installed packages' metadata).
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_count": usable,
        "cpu_model": _cpu_model(),
        "gpus": _gpus(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "tensorflow": _version("tensorflow"),
        "keras": _version("keras"),
    }


def ganlib_version(repo: Path) -> str:
    """``ganlib.__version__`` of the checkout at ``repo`` (the one on the kernel's path), read without importing it."""
    found = re.search(r'^__version__ = "([^"]+)"', (repo / "ganlib" / "__init__.py").read_text(), re.MULTILINE)
    return found.group(1) if found else "unknown"


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 1)
    except OSError:
        return None


def embed_gifs(nb: nbformat.NotebookNode) -> int:
    """Store every ``image/gif`` output as an HTML ``<img>`` of its own bytes (a base64 ``data:`` URI), in place.

    nbconvert's HTML templates, and nbviewer, show no ``image/gif`` output; an ``<img>`` in a
    ``text/html`` output shows, animated, in Jupyter, nbviewer and on GitHub. The GIF's bytes are
    moved, not copied, so the notebook does not grow.

    Returns:
        The number of GIF outputs converted.
    """
    converted = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/gif" not in data:
                continue
            b64 = "".join(data.pop("image/gif").split())
            base64.b64decode(b64, validate=True)  # a corrupt output fails here, not in the reader's browser
            data["text/html"] = f'<img src="data:image/gif;base64,{b64}" alt="animated GIF"/>'
            converted += 1
    return converted


def drop_native_logs(nb: nbformat.NotebookNode) -> int:
    """Remove TensorFlow's C++ log lines (:data:`NATIVE_LOG`) from the stderr outputs, in place.

    They describe the machine (CPU instructions, "failed call to cuInit" where CUDA is installed
    but no GPU is), which the header cell already does, and differ from a reader's own machine.
    Python warnings and every other line are kept; a stderr output left empty is removed.

    Returns:
        The number of lines removed.
    """
    dropped = 0
    for cell in nb.cells:
        if "outputs" not in cell:
            continue
        kept = []
        for output in cell.outputs:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines = output.text.splitlines(keepends=True)
                clean = [line for line in lines if not NATIVE_LOG.match(line.rstrip("\n"))]
                dropped += len(lines) - len(clean)
                if not clean:
                    continue
                output.text = "".join(clean)
            kept.append(output)
        cell.outputs = kept
    return dropped


def header_cell(source: str, info: dict) -> nbformat.NotebookNode:
    """The markdown cell that opens an executed copy: what it is, when, where, how long, from which commit.

    Args:
        source: the source notebook's path relative to the repository, e.g. ``notebooks/01_x.ipynb``.
        info: the ``ganlib_render`` metadata written by :func:`render_notebook`.
    """
    seconds = info["seconds"]
    gpus = ", ".join(info["gpus"]) if info["gpus"] else "no GPU"
    loads = [info.get("load_start"), info.get("load_end")]
    load = (f", load average {loads[0]} at the start and {loads[1]} at the end (other jobs on the machine "
            "lengthen the times)") if None not in loads else ""
    commit = f"`{info['source_commit']}`" if info["source_commit"] else "unknown (not a git checkout)"
    if info.get("source_dirty"):
        commit += ", with uncommitted changes"
    name = Path(source).name
    return nbformat.v4.new_markdown_cell("\n".join([
        HEADER_MARK,
        f"**An executed copy, for reading.** This is [`{source}`](../../{source}) executed from top to bottom in "
        "full mode (`GANLIB_QUICK` unset) by `make course` (`scripts/render_course.py`), with its outputs. "
        f"To run it yourself, open the source notebook or the Colab badge below; the course's index is "
        f"[docs/course/README.md](README.md).",
        "",
        f"- **Executed:** {info['date']} (UTC), in {seconds:,.0f} s ({seconds / 60:.1f} min) of wall time",
        f"- **Source:** `{name}` at git commit {commit}",
        f"- **Machine:** {info['system']}, {info['cpu_count']} CPU cores ({info['cpu_model']}), {gpus}{load}",
        f"- **Software:** Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}, "
        f"ganlib {info['ganlib']} (the checkout at commit `{info['checkout_commit'] or 'unknown'}`)",
    ]))


def _kernel_manager_class():
    """An ``AsyncKernelManager`` whose every kernel is ipykernel on this interpreter (nbval's ``--nbval-current-env``).

    The notebooks' kernelspec name (``python3``) could otherwise resolve to another Python on the machine.
    """
    import ipykernel.kernelspec
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from traitlets import default

    class CurrentEnvSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                          **ipykernel.kernelspec.get_kernel_dict())

    class CurrentEnvKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _current_env_specs(self):
            return CurrentEnvSpecs(data_dir=self.data_dir)

    return CurrentEnvKernelManager


def kernel_environment(repo: Path) -> dict[str, str]:
    """The kernel's environment: full mode, an absolute data directory, and ``repo`` first on ``PYTHONPATH``."""
    env = dict(os.environ)
    env.pop("GANLIB_QUICK", None)
    if env.get("GANLIB_DATA_DIR"):
        env["GANLIB_DATA_DIR"] = str(Path(env["GANLIB_DATA_DIR"]).resolve())
    env["PYTHONPATH"] = os.pathsep.join([str(repo), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


class RenderError(RuntimeError):
    """A notebook failed to execute; the message names it and gives the error."""


def render_notebook(source: Path, out_dir: Path, *, repo: Path = REPO, timeout: int | None = 3600,
                    failed_dir: Path | None = None) -> dict:
    """Execute ``source`` in full mode and write the executed copy, with its header cell, to ``out_dir``.

    The copy is written to a temporary file and moved into place only after every cell ran, so a
    failure leaves the previous copy as it was.

    Args:
        source: a notebook ``NN_name.ipynb``; the kernel starts in its folder.
        out_dir: where ``NN_name.ipynb`` is written (created if needed).
        repo: the checkout whose ``ganlib`` the kernel imports (first on its ``PYTHONPATH``).
        timeout: the longest a single cell may run, in seconds; None for no limit.
        failed_dir: where a failed notebook is saved as far as it ran (None: not saved).

    Returns:
        The ``ganlib_render`` metadata of the copy (date, seconds, source commit, machine).

    Raises:
        RenderError: a cell raised, or ran longer than ``timeout``.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(source, as_version=4)
    commit, dirty = source_state(source)
    info = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"), "source_commit": commit,
            "source_dirty": dirty, **machine_info(), "ganlib": ganlib_version(repo),
            "checkout_commit": _git(repo, "rev-parse", "HEAD"), "load_start": _load()}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", kernel_manager_class=_kernel_manager_class(),
                            resources={"metadata": {"path": str(source.parent)}})
    started = time.perf_counter()
    try:
        client.execute(env=kernel_environment(repo))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        if failed_dir is not None:
            failed_dir.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, failed_dir / source.name)
        raise RenderError(f"{source.name} failed after {time.perf_counter() - started:.0f} s:\n{error}") from error
    info["seconds"] = round(time.perf_counter() - started, 1)
    info["load_end"] = _load()
    info["gifs_embedded"] = embed_gifs(nb)
    info["log_lines_dropped"] = drop_native_logs(nb)
    top = _git(source.resolve().parent, "rev-parse", "--show-toplevel")
    relative = source.resolve().relative_to(Path(top).resolve()).as_posix() if top else source.name
    nb.cells.insert(0, header_cell(relative, info))
    nb.metadata[META_KEY] = info
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=out_dir, suffix=".ipynb.tmp", delete=False, encoding="utf-8") as f:
        nbformat.write(nb, f)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(f.name, 0o666 & ~umask)  # NamedTemporaryFile creates it readable by its owner only
    os.replace(f.name, out_dir / source.name)
    return info


def stale_reason(info: dict, source: Path) -> str | None:
    """Why an executed copy with metadata ``info`` is older than ``source``, or None when it is current.

    Current means: the recorded commit exists and no commit since it changed ``source``.

    Raises:
        LookupError: git cannot tell (git missing, not a checkout, or a shallow clone that lacks the
            recorded commit): the caller decides whether to skip.
    """
    folder = source.resolve().parent
    if _git(folder, "rev-parse", "--git-dir") is None:
        raise LookupError(f"{folder} is not in a git checkout, or git is not installed")
    commit = info.get("source_commit")
    if not commit:
        return "no source commit recorded (rendered outside a git checkout)"
    if info.get("source_dirty"):
        return f"rendered from uncommitted changes to {source.name} (commit them, then render again)"
    if _git(folder, "cat-file", "-e", f"{commit}^{{commit}}") is None:
        if _git(folder, "rev-parse", "--is-shallow-repository") == "true":
            raise LookupError(f"commit {commit} is not in this shallow clone")
        return f"its source commit {commit} is not in this repository's history"
    later = _git(folder, "log", "--format=%h %s", f"{commit}..HEAD", "--", source.name)
    if later is None:
        raise LookupError(f"git log {commit}..HEAD failed")
    if later:
        return f"{source.name} changed since {commit[:7]}: " + "; ".join(later.splitlines())
    return None


def read_render_info(path: Path) -> dict | None:
    """The ``ganlib_render`` metadata of an executed copy, or None when it has none."""
    return nbformat.read(path, as_version=4).metadata.get(META_KEY)


def build_index(notebooks_dir: Path, out_dir: Path) -> str:
    """The text of docs/course/README.md: one row per executed copy, then the notebooks without a current one."""
    rows, infos, missing, stale = [], [], [], []
    for source in course_notebooks(notebooks_dir):
        copy = out_dir / source.name
        info = read_render_info(copy) if copy.exists() else None
        if info is None:
            missing.append(source.name)
            continue
        infos.append(info)
        try:
            reason = stale_reason(info, source)
        except LookupError:
            reason = None
        if reason:
            stale.append(f"`{source.name}`: {reason}")
        commit = f"`{info['source_commit'][:7]}`" if info.get("source_commit") else "unknown"
        seconds = info["seconds"]
        rows.append(f"| [{source.stem}]({source.name}) | {info['date']} | {seconds:,.0f} s ({seconds / 60:.1f} min) "
                    f"| {info.get('load_start')} - {info.get('load_end')} | {commit} |")
    machines = sorted({f"{i['system']}, {i['cpu_count']} CPU cores ({i['cpu_model']}), "
                       f"{', '.join(i['gpus']) if i['gpus'] else 'no GPU'}; Python {i['python']}, "
                       f"TensorFlow {i['tensorflow']}, Keras {i['keras']}" for i in infos})
    lines = [
        "# The course, executed",
        "",
        "Every notebook of [`notebooks/`](../../notebooks/README.md) executed in full mode, with all its outputs "
        "(sample grids, GIFs, plots), to read without running anything. Each copy opens with the date, the "
        "machine, the wall time and the git commit of the source it was made from. `make course` "
        "(`scripts/render_course.py`) makes them and rewrites this page; it runs the notebooks one after the "
        "other, so it takes about the sum of the wall times below.",
        "",
        "| notebook | executed (UTC) | wall time | load average (start - end) | source commit |",
        "|---|---|---|---|---|",
        *(rows or ["| (none yet) | | | | |"]),
    ]
    if machines:
        lines += ["", "Made on: " + "; ".join(machines) + ". The load average counts the other jobs that "
                  "shared the machine: they lengthen the wall times."]
    if missing:
        lines += ["", "Not executed yet (`make course`, or `python scripts/render_course.py --only NN`): "
                  + ", ".join(f"`{m}`" for m in missing) + "."]
    if stale:
        lines += ["", "Out of date (the source changed after its copy was made):", "",
                  *(f"- {s}" for s in stale)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NN", help="render only these notebooks, by number (01 03)")
    parser.add_argument("--timeout", type=int, default=3600,
                        help="longest a single cell may run, in seconds (default 3600; 0: no limit)")
    parser.add_argument("--notebooks", type=Path, default=REPO / "notebooks",
                        help="folder of the source notebooks (default: notebooks/)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "course",
                        help="folder of the executed copies and their index (default: docs/course/)")
    args = parser.parse_args(argv)

    try:
        sources = course_notebooks(args.notebooks, args.only)
    except ValueError as error:
        parser.error(str(error))
    failures = []
    for source in sources:
        commit, dirty = source_state(source)
        print(f"render_course: executing {source.name} (full mode, source commit "
              f"{commit[:7] if commit else 'unknown'}{', uncommitted changes' if dirty else ''})", flush=True)
        try:
            info = render_notebook(source, args.out, timeout=args.timeout or None,
                                   failed_dir=args.notebooks / "runs" / "failed")
        except RenderError as error:
            print(f"render_course: FAILED {error}", file=sys.stderr, flush=True)
            failures.append(source.name)
            continue
        print(f"render_course: wrote {args.out / source.name} in {info['seconds']:.0f} s "
              f"({info['gifs_embedded']} GIFs embedded)", flush=True)
    index = args.out / "README.md"
    args.out.mkdir(parents=True, exist_ok=True)
    index.write_text(build_index(args.notebooks, args.out), encoding="utf-8")
    print(f"render_course: wrote {index}")
    if failures:
        print(f"render_course: {len(failures)} notebook(s) failed, their previous copies kept: {', '.join(failures)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
