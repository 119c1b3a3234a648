"""
``make dist``, after ``twine check --strict``: what PyPI, pip and Airflow need from the built files.

``python scripts/dist/check_metadata.py dist`` reads the two wheels and the two sdists in
``dist`` — the provider (``airflow-provider-automation-anywhere``, from the repository's
root) and the emulator (``automation-anywhere-emulator``, from ``emulator/``) — and checks
each one's metadata against its source tree: version (the same for both), requires-python,
license, classifiers (all known to PyPI), project URLs, its dependencies exactly as its
pyproject.toml declares them, the published extras (the provider's one extra, ``emulator``,
pins the emulator at the same version; development tools are dependency groups, which are
not published), its README as long description (rendered the way PyPI renders Markdown),
its entry point groups exactly (the pytest plugin is the emulator's alone), and that each
archive ships ``py.typed``, the Apache License's text (``LICENSE``, as the repository has
it) and nothing but its package — the emulator its JSON seeds, the provider no emulator
module and no ``cryptography`` dependency (only the emulator's TLS mode uses it). Exits 1
listing every problem found.
"""

from __future__ import annotations

import ast
import configparser
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

import readme_renderer.markdown
import tomllib
import trove_classifiers
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]

REQUIRES_PYTHON = ">=3.10"
LICENSE = "Apache-2.0"
PYTHONS = {f"Programming Language :: Python :: 3.{minor}" for minor in (10, 11, 12, 13)}
PROJECT_URLS = {"Homepage", "Documentation", "Changelog", "Issues"}


@dataclass(frozen=True)
class Distribution:
    """What one distribution's archives must be."""

    name: str
    #: The directory holding its pyproject.toml and README.md.
    source: Path
    package: str
    classifiers: set[str]
    #: Every entry point group and its entries, exactly (entry_points.txt).
    entry_points: dict[str, dict[str, str]]
    #: Beside the package's modules and py.typed: files its source holds (glob, in the package).
    package_data: str | None = None
    #: Beside pyproject.toml, README.md and LICENSE: what the sdist ships for its documents.
    sdist_files: set[str] = field(default_factory=set)
    #: Dependencies it must not declare.
    not_dependencies: set[str] = field(default_factory=set)

    @property
    def project(self) -> dict:
        return tomllib.loads((self.source / "pyproject.toml").read_text())["project"]

    def shipped_files(self) -> set[str]:
        """Files both archives must hold beside the Python modules: the typing marker, the package data."""
        data = sorted((self.source / self.package).glob(self.package_data)) if self.package_data else []
        return {f"{self.package}/__init__.py", f"{self.package}/py.typed"} | {
            f"{self.package}/{path.name}" for path in data
        }

    def file_stem(self, version: str) -> str:
        return f"{canonicalize_name(self.name).replace('-', '_')}-{version}"


PROVIDER = Distribution(
    name="airflow-provider-automation-anywhere",
    source=ROOT,
    package="airflow_provider_aa",
    classifiers={"Framework :: Apache Airflow", "Framework :: Apache Airflow :: Provider", "Typing :: Typed"} | PYTHONS,
    entry_points={
        "apache_airflow_provider": {"provider_info": "airflow_provider_aa.get_provider_info:get_provider_info"},
        # The emulator's fixtures call it after each reset; the provider registers no pytest plugin.
        "automation_anywhere_emulator.reset": {
            "forget_capabilities": "airflow_provider_aa.hooks.automation_anywhere:forget_capabilities"
        },
    },
    # docs/control-room-api.md: CONTRIBUTING.md (shipped too) points to it.
    sdist_files={"docs/control-room-api.md"},
    not_dependencies={"cryptography"},
)
EMULATOR = Distribution(
    name="automation-anywhere-emulator",
    source=ROOT / "emulator",
    package="automation_anywhere_emulator",
    classifiers={"Framework :: Pytest", "Typing :: Typed"} | PYTHONS,
    entry_points={
        "console_scripts": {"automation-anywhere-emulator": "automation_anywhere_emulator.__main__:main"},
        "pytest11": {"automation_anywhere_emulator": "automation_anywhere_emulator.pytest_plugin"},
    },
    package_data="*.json",
)


def source_version(distribution: Distribution) -> str:
    """``__version__`` of a package in the source tree, read without importing it."""
    init = distribution.source / distribution.package / "__init__.py"
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(target, "id", None) for target in node.targets] == ["__version__"]:
            return str(ast.literal_eval(node.value))
    raise SystemExit(f"no __version__ in {init}")


def expected_extras(distribution: Distribution, version: str) -> dict[str, list[str]]:
    """The published extras: the provider's ``emulator`` pins the emulator built beside it."""
    return {"emulator": [f"{EMULATOR.name}=={version}"]} if distribution is PROVIDER else {}


def check_metadata(distribution: Distribution, metadata: Message, version: str) -> list[str]:
    """Problems with a wheel's METADATA (the same fields go into the sdist's PKG-INFO)."""
    problems = []
    project = distribution.project
    expected = {
        "Name": distribution.name,
        "Version": version,
        "Requires-Python": REQUIRES_PYTHON,
        "License-Expression": LICENSE,
        "License-File": "LICENSE",
        "Description-Content-Type": "text/markdown",
    }
    if project["name"] != distribution.name:
        problems.append(f"pyproject.toml names {project['name']!r}, expected {distribution.name!r}")
    for name, value in expected.items():
        if metadata.get(name) != value:
            problems.append(f"{name} is {metadata.get(name)!r}, expected {value!r}")
    classifiers = set(metadata.get_all("Classifier") or [])
    problems += [f"classifier {name!r} missing" for name in sorted(distribution.classifiers - classifiers)]
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

    extras = expected_extras(distribution, version)
    if project.get("optional-dependencies", {}) != extras:
        problems.append(f"pyproject.toml's extras are {project.get('optional-dependencies', {})}, expected {extras}")
    published = set(metadata.get_all("Provides-Extra") or [])
    if published != set(extras):
        problems.append(f"published extras are {sorted(published)}, expected {sorted(extras)}")
    declared = {_requirement(text) for text in project["dependencies"]} | {
        _requirement(f'{text}; extra == "{extra}"') for extra, texts in extras.items() for text in texts
    }
    requires = {_requirement(text) for text in metadata.get_all("Requires-Dist") or []}
    problems += [f"dependency {dep} missing" for dep in sorted(declared - requires)]
    problems += [f"dependency {dep} not in pyproject.toml" for dep in sorted(requires - declared)]
    problems += [
        f"dependency {name!r} declared" for name in sorted(distribution.not_dependencies & {r[0] for r in requires})
    ]

    description = metadata.get_payload()
    readme = distribution.source / "README.md"
    if not isinstance(description, str) or description.strip() != readme.read_text().strip():
        problems.append(f"the long description is not {readme.relative_to(ROOT)}")
    elif readme_renderer.markdown.render(description) is None:
        problems.append("the README does not render as Markdown (is readme-renderer[md] installed?)")
    return problems


def _requirement(text: str) -> tuple[str, str, str]:
    """A requirement as name, specifiers and marker, however setuptools spelled and ordered them."""
    requirement = Requirement(text)
    specifiers = ",".join(sorted(str(specifier) for specifier in requirement.specifier))
    return canonicalize_name(requirement.name), specifiers, str(requirement.marker or "")


def _entry_points(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # entry point names keep their case
    parser.read_string(text)
    return {group: dict(parser[group]) for group in parser.sections()}


def check_wheel(distribution: Distribution, wheel: Path, version: str) -> list[str]:
    """Problems with a wheel: metadata, entry points, LICENSE, files missing or outside the package."""
    dist_info = f"{distribution.file_stem(version)}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = HeaderParser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        license_file = f"{dist_info}/licenses/LICENSE"
        license_text = archive.read(license_file) if license_file in names else None
    problems = check_metadata(distribution, metadata, version)
    if license_text != (ROOT / "LICENSE").read_bytes():
        problems.append("its licenses/LICENSE is missing or not the repository's LICENSE")
    found = _entry_points(entry_points)
    if found != distribution.entry_points:
        problems.append(f"entry points are {found}, expected {distribution.entry_points}")
    problems += [f"it lacks {needed}" for needed in sorted(distribution.shipped_files() - names)]
    strays = sorted(name for name in names if not name.startswith((f"{distribution.package}/", f"{dist_info}/")))
    if strays:
        problems.append(f"it holds files outside the package: {strays}")
    if distribution is PROVIDER:
        emulated = sorted(name for name in names if any("emulator" in part for part in PurePosixPath(name).parts))
        if emulated:
            problems.append(f"it holds emulator files: {emulated}")
    return [f"{wheel.name}: {problem}" for problem in problems]


def check_sdist(distribution: Distribution, sdist: Path, version: str) -> list[str]:
    """Problems with an sdist: metadata (PKG-INFO), LICENSE and files missing."""
    top = distribution.file_stem(version)
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
        pkg_info = archive.extractfile(f"{top}/PKG-INFO")
        assert pkg_info is not None
        metadata = HeaderParser().parsestr(pkg_info.read().decode())
        license_file = archive.extractfile(f"{top}/LICENSE") if f"{top}/LICENSE" in names else None
        license_text = license_file.read() if license_file else None
    problems = check_metadata(distribution, metadata, version)
    if license_text != (ROOT / "LICENSE").read_bytes():
        problems.append("its LICENSE is missing or not the repository's LICENSE")
    needed = {"pyproject.toml", "README.md"} | distribution.sdist_files | distribution.shipped_files()
    problems += [f"it lacks {name}" for name in sorted(needed) if f"{top}/{name}" not in names]
    return [f"{sdist.name}: {problem}" for problem in problems]


def main(dist: Path) -> int:
    version = source_version(PROVIDER)
    if source_version(EMULATOR) != version:
        print(f"metadata: the emulator's version is {source_version(EMULATOR)}, the provider's {version}")
        return 1
    expected = {
        f"{distribution.file_stem(version)}{suffix}": distribution
        for distribution in (PROVIDER, EMULATOR)
        for suffix in ("-py3-none-any.whl", ".tar.gz")
    }
    found = sorted(path.name for path in dist.iterdir())
    if found != sorted(expected):
        print(f"metadata: expected {sorted(expected)} in {dist}, found {found}")
        return 1
    problems = []
    for name, distribution in expected.items():
        check = check_wheel if name.endswith(".whl") else check_sdist
        problems += check(distribution, dist / name, version)
    for problem in problems:
        print(f"metadata: {problem}")
    if not problems:
        print(f"metadata: {', '.join(expected)} are complete (version {version})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "dist")))
