"""The documentation: the MkDocs site builds in strict mode, with the course and the API; README.md's links resolve.

No TensorFlow: mkdocstrings reads ganlib's sources, mkdocs-jupyter renders the executed notebooks' stored outputs.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS_TOOLS = ("mkdocs", "material", "mkdocs_jupyter", "mkdocstrings", "mkdocstrings_handlers.python")

# The target of a Markdown inline link or image, [text](target), ![alt](target "title") or [text](<a target>)
# (also the outer link of a badge, [![alt](image)](target)), and of an HTML src or href.
MD_LINK = re.compile(r"\]\(\s*(?:<([^>\n]+)>|([^)\s]+))")
HTML_LINK = re.compile(r"\b(?:src|href)=\"([^\"]+)\"")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def relative_links(markdown: str) -> list[str]:
    """The relative link targets of a Markdown text, anchors and queries removed; fenced code is not searched."""
    text = FENCE.sub("", markdown)
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code
    out = []
    targets = [angled or plain for angled, plain in MD_LINK.findall(text)] + HTML_LINK.findall(text)
    for target in targets:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")):
            continue  # a URL (http:, mailto:, data:), an anchor on the same page, or an absolute path
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if path:
            out.append(path)
    return out


def test_relative_links_finds_links_and_skips_urls_and_code():
    text = ("[a](docs/a.md#x) ![b](docs/b.gif){ width=1 } [c](https://x.org/y) [d](#top) `[e](nope.md)`\n"
            '<img src="docs/c.png" width="3"> [f](<docs/f g.md>) [![badge](https://x.org/b.svg)](notebooks/n.ipynb)\n'
            '```\n[h](in_code.md)\n```\n')
    assert relative_links(text) == ["docs/a.md", "docs/b.gif", "docs/f g.md", "notebooks/n.ipynb", "docs/c.png"]


def test_every_relative_link_of_the_readme_points_to_a_file():
    readme = (REPO / "README.md").read_text()
    links = relative_links(readme)
    assert len(links) > 20, links  # the parser found the course table and the pointers
    missing = [link for link in links if not (REPO / link).exists()]
    assert not missing, f"README.md links files that do not exist: {missing}"


def _require_docs_tools() -> None:
    missing = [name for name in DOCS_TOOLS if importlib.util.find_spec(name.split(".")[0]) is None
               or importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(f"the documentation tools are not installed ({', '.join(missing)}): "
                    f"pip install -r requirements-dev.txt", pytrace=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built by ``mkdocs build --strict`` into a temporary directory (about 10-20 s on 2 CPU cores)."""
    _require_docs_tools()
    out = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    print(f"mkdocs build --strict: {seconds:.1f} s")
    assert proc.returncode == 0, f"mkdocs build --strict failed (exit {proc.returncode}):\n{proc.stderr[-5000:]}"
    return out


def _course_notebooks() -> list[Path]:
    return sorted((REPO / "docs" / "course").glob("[0-9][0-9]_*.ipynb"))


def test_every_executed_notebook_is_a_page_with_its_images(site):
    notebooks = _course_notebooks()
    assert [nb.name for nb in notebooks] == sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for nb in notebooks:
        page = site / "course" / nb.stem / "index.html"
        assert page.exists(), f"no page for {nb.name}"
        html = page.read_text()
        assert "data:image/png;base64," in html, f"{nb.name}: its PNG outputs are not on its page"
        # the links the copy carries to its source and to the course index lead to GitHub and to the index page
        assert f"https://github.com/ganlib/ganlib/blob/main/notebooks/{nb.name}" in html
        assert 'href="README.md"' not in html
    index = (site / "course" / "index.html").read_text()
    assert all(f'href="{nb.stem}/"' in index for nb in notebooks)


def test_the_api_reference_renders_docstrings(site):
    html = (site / "api" / "train" / "index.html").read_text()
    assert "make_train_step" in html
    # the summary line of ganlib.train.step.make_train_step's docstring (backticks rendered as <code>)
    assert "that performs one generator iteration on <code>n_critic</code> real batches" in html
    for module in ("train", "metrics", "progressive", "config", "data", "models", "layers", "losses", "penalties",
                   "conditional", "walks", "viz", "export", "cli"):
        assert (site / "api" / module / "index.html").exists(), module


def test_the_guides_are_in_the_site(site):
    for page in ("cli", "gifs", "conditional", "evaluation", "fit-export-tensorboard", "distributed", "data",
                 "architecture", "performance", "results"):
        assert (site / page / "index.html").exists(), page
    assert (site / "decisions" / "008-stabilisers-off" / "index.html").exists()
