"""The lock files in requirements/ agree with pyproject.toml (scripts/lock.sh makes them).

A dependency added to pyproject.toml without relocking, a range tightened past its pin, or
a pin without a hash would make the README's install line fail on a fresh machine, or
install something nobody tested: caught here, before a user meets it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _pins(name: str) -> dict[str, tuple[Version, int]]:
    """{package: (version, number of hashes)} of a lock file."""
    pins: dict[str, tuple[Version, int]] = {}
    current: str | None = None
    for line in (ROOT / "requirements" / name).read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            current = canonicalize_name(match[1])
            assert current not in pins, f"{name}: {current} pinned twice"
            pins[current] = (Version(match[2]), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def _requirements(*extras: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        found += [Requirement(r) for r in project["optional-dependencies"][extra]]
    found += [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    return found


@pytest.mark.parametrize(
    ("lock", "extras"),
    [
        ("dev.txt", ("sandbox", "postgres", "test")),
        ("sandbox.txt", ("sandbox",)),
        ("server.txt", ("sandbox", "postgres")),
    ],
)
def test_every_requirement_is_pinned_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pins = _pins(lock)
    for requirement in _requirements(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements/{lock}: run scripts/lock.sh"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements/{lock} pins {name}=={version}, outside {requirement}:"
            " run scripts/lock.sh"
        )
        for extra in requirement.extras:  # psycopg[binary] -> psycopg-binary
            assert canonicalize_name(f"{name}-{extra}") in pins, f"{requirement}: extra not locked"


@pytest.mark.parametrize("lock", ["dev.txt", "sandbox.txt", "server.txt"])
def test_every_pin_has_a_hash(lock: str) -> None:
    unhashed = [name for name, (_, hashes) in _pins(lock).items() if hashes == 0]
    assert not unhashed, f"requirements/{lock}: no hash for {unhashed}"


@pytest.mark.parametrize("lock", ["sandbox.txt", "server.txt"])
def test_the_smaller_locks_pin_the_same_versions_as_dev(lock: str) -> None:
    dev, smaller = _pins("dev.txt"), _pins(lock)
    assert smaller.keys() <= dev.keys()
    differ = {name for name in smaller if smaller[name][0] != dev[name][0]}
    assert not differ, f"{lock} and dev.txt disagree on {differ}: run scripts/lock.sh"


def test_readme_quick_start_installs_from_the_locks() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    run_line, test_line = [line for line in block.splitlines() if line.strip()][:2]
    assert "--require-hashes -r requirements/sandbox.txt" in run_line
    assert "--require-hashes -r requirements/dev.txt" in test_line
    for line in (run_line, test_line):
        assert "--no-deps" in line and "--no-build-isolation" in line
