"""MkDocs hooks (mkdocs.yml ``hooks:``): links to files outside docs/ become GitHub links at build time.

The site holds only docs/. Some of its pages are generated and written to be read on GitHub as well:
docs/course/README.md links ``../../notebooks/README.md``, and each executed notebook in docs/course/ links its
source ``../../notebooks/NN_*.ipynb`` and the course index as ``README.md``. Neither file can be edited by hand
(scripts/render_course.py writes them), so the links are rewritten here:

* a relative link that resolves to a file of the repository outside docs/ points at that file on GitHub
  (``REPO_URL/blob/main/PATH``);
* in an executed notebook (rendered to HTML by mkdocs-jupyter, which MkDocs does not check or rewrite), a relative
  link to a page of the site points at that page's URL.

A link to a file that does not exist is left alone, so that ``mkdocs build --strict`` still reports it.
Hand-written pages link GitHub directly; this hook only keeps the generated ones working.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.utils import get_relative_url

REPO_URL = "https://github.com/ganlib/ganlib/blob/main/"
REPO = Path(__file__).resolve().parents[1]

# A Markdown inline link or image target: ](target) or ](target "title"); targets without spaces.
MD_LINK = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
HTML_LINK = re.compile(r"(\b(?:href|src)=\")([^\"]+)(\")")


def _is_relative(target: str) -> bool:
    return not (re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")))


def _outside_docs(target: str, page_src: Path, docs_dir: Path) -> str | None:
    """The GitHub URL of ``target`` when it is a repository file outside docs/, else None."""
    path, _, anchor = target.partition("#")
    resolved = (page_src.parent / path).resolve()
    if not resolved.exists() or resolved.is_relative_to(docs_dir) or not resolved.is_relative_to(REPO):
        return None
    return REPO_URL + resolved.relative_to(REPO).as_posix() + (f"#{anchor}" if anchor else "")


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri.endswith(".ipynb"):
        return markdown  # mkdocs-jupyter renders it; its links are handled in on_page_content
    docs_dir = Path(config["docs_dir"]).resolve()
    page_src = Path(page.file.abs_src_path)

    def fix(m: re.Match) -> str:
        target = m.group(2)
        url = _outside_docs(target, page_src, docs_dir) if _is_relative(target) else None
        return m.group(1) + url + m.group(3) if url else m.group(0)

    return MD_LINK.sub(fix, markdown)


def on_page_content(html, page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    docs_dir = Path(config["docs_dir"]).resolve()
    page_src = Path(page.file.abs_src_path)

    def fix(m: re.Match) -> str:
        target = m.group(2)
        if not _is_relative(target) or target.startswith("data:"):
            return m.group(0)
        url = _outside_docs(target, page_src, docs_dir)
        if url is None:
            path, _, anchor = target.partition("#")
            src_uri = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), path))
            linked = files.get_file_from_path(src_uri)
            if linked is None:
                return m.group(0)
            url = get_relative_url(linked.url, page.url) + (f"#{anchor}" if anchor else "")
        return m.group(1) + url + m.group(3)

    return HTML_LINK.sub(fix, html)
