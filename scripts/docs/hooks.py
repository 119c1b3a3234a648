"""
MkDocs hooks of ``make docs`` (``mkdocs.yml``): the README and the repository's root documents
become pages of the site, and every link is checked.

- ``README.md``, ``CONTRIBUTING.md`` and ``CHANGELOG.md`` are built as ``index.md``,
  ``contributing.md`` and ``changelog.md``, so links to them and their anchors are checked
  like links between ``docs/`` pages.
- A link is read as the repository path it names: relative to the page's place in the
  repository (``docs/x.md`` from the README, ``../README.md`` from a docs page), or an
  absolute address of this repository on GitHub (``…/blob/main/docs/x.md``, as the README
  writes them: PyPI shows it and resolves no relative link). A path that is a page of the site
  is handed to MkDocs as a link to that page, whose strict build then fails when the page or
  the anchor does not exist. Any other path must exist in the working tree; the site links it
  on GitHub.
- Other addresses are checked for syntax only (``http``/``https`` with a host, ``mailto``):
  nothing here reaches the network.
- Headings get GitHub's anchors (lower case, punctuation dropped, each space a hyphen), so an
  anchor checked here is the one GitHub shows.
- A page of ``docs/`` missing from ``nav`` is added under "More": built, checked and reachable.

Each problem is a warning, which ``mkdocs build --strict`` turns into a failed build.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

# Under "mkdocs", so that --strict counts its warnings.
log = logging.getLogger("mkdocs.hooks.aa_docs")

ROOT_PAGES = {"README.md": "index.md", "CONTRIBUTING.md": "contributing.md", "CHANGELOG.md": "changelog.md"}
DOCS_DIR = "docs"


def github_slug(text: str, separator: str) -> str:
    """A heading's anchor as GitHub makes it (github-slugger): lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


class _Links:
    """Where the repository is, on disk and on GitHub, and which page is being rendered."""

    def __init__(self, config: MkDocsConfig) -> None:
        self.root = Path(config.config_file_path).resolve().parent
        repo_url = (config.repo_url or "").rstrip("/")
        owner_name = urlsplit(repo_url).path.strip("/")
        self.github_prefixes = (
            f"{repo_url}/blob/main/",
            f"{repo_url}/tree/main/",
            f"https://raw.githubusercontent.com/{owner_name}/main/",
        )
        self.blob = self.github_prefixes[0]
        self.tree = self.github_prefixes[1]
        self.page_repo_path = ""

    def site_path(self, repo_path: str) -> str | None:
        """The site's path of a repository file, None when the site does not hold it."""
        if repo_path in ROOT_PAGES:
            return ROOT_PAGES[repo_path]
        if repo_path.startswith(f"{DOCS_DIR}/"):
            return repo_path[len(DOCS_DIR) + 1 :]
        return None

    def repo_path(self, url: str) -> tuple[str, str] | None:
        """The repository path and fragment a link names, None for another site's address or an in-page anchor."""
        for prefix in self.github_prefixes:
            if url.startswith(prefix):
                parts = urlsplit(url[len(prefix) :])
                return posixpath.normpath(unquote(parts.path)), parts.fragment
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path or url.startswith("/"):
            return None
        path = posixpath.normpath(posixpath.join(posixpath.dirname(self.page_repo_path), unquote(parts.path)))
        return path, parts.fragment

    def rewrite(self, url: str) -> str:
        """The link as the site needs it; a warning for each that cannot resolve."""
        named = self.repo_path(url)
        if named is None:
            check_address(url, self.page_repo_path)
            return url
        path, fragment = named
        anchor = f"#{fragment}" if fragment else ""
        if path == ".." or path.startswith("../"):
            log.warning("%s links to %r, outside the repository", self.page_repo_path, url)
            return url
        site = self.site_path(path)
        if site is not None:
            # MkDocs resolves this against the page and checks the page and the anchor.
            here = self.site_path(self.page_repo_path) or ""
            return posixpath.relpath(site, posixpath.dirname(here) or ".") + anchor
        target = self.root / path
        if not target.exists():
            log.warning("%s links to %r, but %s is not in the repository", self.page_repo_path, url, path)
            return url
        return f"{self.tree if target.is_dir() else self.blob}{path}{anchor}"


def check_address(url: str, page: str) -> None:
    """Another site's address, checked for syntax only: the build never reaches the network."""
    if url.startswith("#") or url.startswith("/"):
        return  # MkDocs checks in-page anchors and warns about absolute paths itself
    parts = urlsplit(url)
    problem = None
    if re.search(r"\s", url):
        problem = "it contains whitespace"
    elif parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        if "." not in host and host != "localhost":
            problem = "it names no host (a host name has a dot, or is localhost)"
        else:
            try:
                parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
            except ValueError as error:
                problem = str(error)
    elif parts.scheme == "mailto":
        if "@" not in parts.path:
            problem = "it has no address"
    else:
        problem = f"the scheme {parts.scheme!r} is not http, https or mailto"
    if problem:
        log.warning("%s links to %r, which is not a valid address: %s", page, url, problem)


class _LinkTreeprocessor(Treeprocessor):
    def __init__(self, md: Markdown, links: _Links) -> None:
        super().__init__(md)
        self.links = links

    def run(self, root: Element) -> None:
        for element in root.iter():
            key = {"a": "href", "img": "src"}.get(element.tag)
            url = element.get(key) if key else None
            if key and url is not None:
                element.set(key, self.links.rewrite(url))


class _LinkExtension(Extension):
    def __init__(self, links: _Links) -> None:
        super().__init__()
        self.links = links

    def extendMarkdown(self, md: Markdown) -> None:
        # After the inline patterns (20) made the links, before MkDocs' own (0) resolves them.
        md.treeprocessors.register(_LinkTreeprocessor(md, self.links), "aa_docs_links", 1)


_links: _Links | None = None


def _nav_pages(items: Any) -> set[str]:
    if isinstance(items, str):
        return {items}
    if isinstance(items, dict):
        return set().union(*(_nav_pages(value) for value in items.values()))
    if isinstance(items, list):
        return set().union(*(_nav_pages(item) for item in items))
    return set()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _links
    _links = _Links(config)
    config.markdown_extensions.append(_LinkExtension(_links))  # type: ignore[arg-type]
    config.mdx_configs.setdefault("toc", {})["slugify"] = github_slug
    docs = Path(config.docs_dir)
    unlisted = sorted({path.relative_to(docs).as_posix() for path in docs.rglob("*.md")} - _nav_pages(config.nav))
    if unlisted and config.nav is not None:
        log.info("pages not in mkdocs.yml's nav, added under 'More': %s", ", ".join(unlisted))
        config.nav.append({"More": unlisted})
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = Path(config.config_file_path).resolve().parent
    for repo_path, site_path in ROOT_PAGES.items():
        files.append(File.generated(config, site_path, abs_src_path=str(root / repo_path)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    assert _links is not None
    site = page.file.src_uri
    _links.page_repo_path = next((repo for repo, path in ROOT_PAGES.items() if path == site), f"{DOCS_DIR}/{site}")
    return markdown
