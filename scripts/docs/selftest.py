"""
``make docs``, after the real build: proof that the build fails on each kind of broken link.

Copies the repository (without virtualenvs and build output) to a temporary folder, adds one
broken link of each kind that ``mkdocs.yml`` and ``hooks.py`` promise to catch, builds it
with the same command, and exits 1 unless the build failed naming every one of them. A newer
MkDocs that stopped checking anchors, or a flag that silenced the warnings (``--quiet``),
would otherwise let broken links through unnoticed.

Usage: ``python scripts/docs/selftest.py``, with the Python that has MkDocs (``.venv-docs``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GITHUB = "https://github.com/airflow-provider-automation-anywhere/airflow-provider-automation-anywhere/blob/main/"

# (where the link goes, the link, a part of the warning it must cause)
BROKEN = [
    ("README.md", "docs/bots.md#no-such-anchor", "does not contain an anchor '#no-such-anchor'"),
    ("README.md", f"{GITHUB}docs/work-items.md#nor-this-one", "does not contain an anchor '#nor-this-one'"),
    ("README.md", f"{GITHUB}docs/no-such-page.md", "'no-such-page.md', but the target is not found"),
    ("README.md", "#nowhere-in-the-readme", "contains a link '#nowhere-in-the-readme', but there is no such anchor"),
    ("README.md", f"{GITHUB}example_dags/no_such_dag.py", "example_dags/no_such_dag.py is not in the repository"),
    ("README.md", "https://nodot/page", "'https://nodot/page', which is not a valid address"),
    ("docs/bots.md", "../README.md#no-readme-heading", "'index.md' does not contain an anchor '#no-readme-heading'"),
    ("docs/bots.md", "../CONTRIBUTING.md#no-heading", "'contributing.md' does not contain an anchor '#no-heading'"),
    ("docs/bots.md", "../example_dags/nor_this_one.py", "example_dags/nor_this_one.py is not in the repository"),
]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="docs-selftest-") as temp:
        copy = Path(temp) / "repo"
        ignored = shutil.ignore_patterns(".venv*", ".git", "site", "dist", ".demo", "__pycache__", "*.egg-info")
        shutil.copytree(ROOT, copy, ignore=ignored)
        for page, link, _warning in BROKEN:
            with (copy / page).open("a", encoding="utf-8") as file:
                file.write(f"\n[a broken link]({link})\n")
        build = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(Path(temp) / "site")],
            cwd=copy,
            capture_output=True,
            text=True,
            check=False,
        )
    missed = [(page, link) for page, link, warning in BROKEN if warning not in build.stderr]
    if build.returncode == 0 or missed:
        print(build.stderr, file=sys.stderr)
        print(f"docs self-test: exit code {build.returncode}; broken links not reported: {missed}", file=sys.stderr)
        return 1
    print(f"docs self-test: the build fails on each of {len(BROKEN)} kinds of broken link")
    return 0


if __name__ == "__main__":
    sys.exit(main())
