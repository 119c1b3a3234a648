"""
``make dist``, after ``twine check --strict``: what PyPI and Airflow need from the built files.

``python scripts/dist/check_metadata.py dist`` reads the one wheel and the one sdist in
``dist`` and checks their metadata against the source tree: version, requires-python,
license, classifiers (all known to PyPI), project URLs, every dependency of
pyproject.toml, the published extras, the README as long description (rendered the way PyPI renders Markdown),
and that the wheel ships ``py.typed``, the
``apache_airflow_provider`` entry point and the Apache License's text (``LICENSE``, as
the source tree has it), and nothing but the package (the sdist the same files, LICENSE
and ``docs/control-room-api.md``). Exits 1 listing every problem found.
"""

from __future__ import annotations

import ast
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import readme_renderer.markdown
import tomllib
import trove_classifiers
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "airflow_provider_aa"

REQUIRES_PYTHON = ">=3.10"
LICENSE = "Apache-2.0"
CLASSIFIERS = {
    "Framework :: Apache Airflow",
    "Framework :: Apache Airflow :: Provider",
    "Programming Language :: Python :: 3.10",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.13",
    "Typing :: Typed",
}
PROJECT_URLS = {"Homepage", "Documentation", "Changelog", "Issues"}
#: What users see as ``pip install airflow-provider-automation-anywhere[...]``; development
#: tools are dependency groups, which are not published.
EXTRAS = {"emulator"}
ENTRY_POINT = "provider_info = airflow_provider_aa.get_provider_info:get_provider_info"


def source_version() -> str:
    """``__version__`` of the source tree, read without importing the package."""
    module = ast.parse((ROOT / PACKAGE / "__init__.py").read_text())
    for node in module.body:
        if isinstance(node, ast.Assign) and [getattr(target, "id", None) for target in node.targets] == ["__version__"]:
            return str(ast.literal_eval(node.value))
    raise SystemExit(f"no __version__ in {PACKAGE}/__init__.py")


def check_metadata(metadata: Message, version: str) -> list[str]:
    """Problems with the wheel's METADATA (the same fields go into the sdist's PKG-INFO)."""
    problems = []
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = {
        "Name": pyproject["name"],
        "Version": version,
        "Requires-Python": REQUIRES_PYTHON,
        "License-Expression": LICENSE,
        "License-File": "LICENSE",
        "Description-Content-Type": "text/markdown",
    }
    for field, value in expected.items():
        if metadata.get(field) != value:
            problems.append(f"{field} is {metadata.get(field)!r}, expected {value!r}")
    classifiers = set(metadata.get_all("Classifier") or [])
    problems += [f"classifier {name!r} missing" for name in sorted(CLASSIFIERS - classifiers)]
    # PyPI refuses an upload with a classifier it does not know.
    problems += [
        f"classifier {name!r} is not a known (or is a deprecated) trove classifier"
        for name in sorted(classifiers)
        if name not in trove_classifiers.classifiers or name in trove_classifiers.deprecated_classifiers
    ]
    if not any(name.startswith("Development Status :: ") for name in classifiers):
        problems.append("no 'Development Status' classifier")
    urls = {entry.split(",", 1)[0].strip() for entry in metadata.get_all("Project-URL") or []}
    problems += [f"project URL {name!r} missing" for name in sorted(PROJECT_URLS - urls)]
    requires = {_requirement(text) for text in metadata.get_all("Requires-Dist") or []}
    problems += [
        f"dependency {dep!r} missing" for dep in pyproject["dependencies"] if _requirement(dep) not in requires
    ]
    extras = set(metadata.get_all("Provides-Extra") or [])
    if extras != EXTRAS:
        problems.append(f"published extras are {sorted(extras)}, expected {sorted(EXTRAS)}")
    description = metadata.get_payload()
    if not isinstance(description, str) or description.strip() != (ROOT / "README.md").read_text().strip():
        problems.append("the long description is not README.md")
    elif readme_renderer.markdown.render(description) is None:
        problems.append("README.md does not render as Markdown (is readme-renderer[md] installed?)")
    return problems


def _requirement(text: str) -> tuple[str, str, str]:
    """A requirement as name, specifiers and marker, however setuptools spelled and ordered them."""
    requirement = Requirement(text)
    specifiers = ",".join(sorted(str(specifier) for specifier in requirement.specifier))
    return canonicalize_name(requirement.name), specifiers, str(requirement.marker or "")


def shipped_files() -> set[str]:
    """Files both archives must hold beside the Python modules: the typing marker."""
    return {f"{PACKAGE}/__init__.py", f"{PACKAGE}/py.typed"}


def check_wheel(wheel: Path, version: str) -> list[str]:
    """Problems with the wheel: metadata, entry point, files missing or outside the package."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = f"airflow_provider_automation_anywhere-{version}.dist-info"
        problems = check_metadata(HeaderParser().parsestr(archive.read(f"{dist_info}/METADATA").decode()), version)
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        license_text = archive.read(f"{dist_info}/licenses/LICENSE") if f"{dist_info}/licenses/LICENSE" in names else None
    if license_text != (ROOT / "LICENSE").read_bytes():
        problems.append("the wheel's licenses/LICENSE is missing or not the source tree's LICENSE")
    if f"[apache_airflow_provider]\n{ENTRY_POINT}" not in entry_points:
        problems.append(f"entry point missing: [apache_airflow_provider] {ENTRY_POINT}")
    for needed in sorted(shipped_files()):
        if needed not in names:
            problems.append(f"the wheel lacks {needed}")
    strays = sorted(name for name in names if not name.startswith((f"{PACKAGE}/", f"{dist_info}/")))
    if strays:
        problems.append(f"the wheel holds files outside the package: {strays}")
    return problems


def check_sdist(sdist: Path, version: str) -> list[str]:
    """Problems with the sdist: metadata (PKG-INFO) and files missing."""
    top = f"airflow_provider_automation_anywhere-{version}"
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
        pkg_info = archive.extractfile(f"{top}/PKG-INFO")
        assert pkg_info is not None
        metadata = HeaderParser().parsestr(pkg_info.read().decode())
        license_file = archive.extractfile(f"{top}/LICENSE") if f"{top}/LICENSE" in names else None
        license_text = license_file.read() if license_file else None
    problems = [f"sdist: {problem}" for problem in check_metadata(metadata, version)]
    if license_text != (ROOT / "LICENSE").read_bytes():
        problems.append("the sdist's LICENSE is missing or not the source tree's LICENSE")
    # docs/control-room-api.md: CONTRIBUTING.md (shipped too) points to it.
    for needed in sorted({"pyproject.toml", "README.md", "docs/control-room-api.md"} | shipped_files()):
        if f"{top}/{needed}" not in names:
            problems.append(f"the sdist lacks {needed}")
    return problems


def main(dist: Path) -> int:
    version = source_version()
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist in {dist}, found {[p.name for p in wheels + sdists]}")
        return 1
    if wheels[0].name != f"airflow_provider_automation_anywhere-{version}-py3-none-any.whl":
        print(f"unexpected wheel name {wheels[0].name} (version {version})")
        return 1
    problems = check_wheel(wheels[0], version) + check_sdist(sdists[0], version)
    for problem in problems:
        print(f"metadata: {problem}")
    if not problems:
        print(f"metadata: {wheels[0].name} and {sdists[0].name} are complete (version {version})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "dist")))
