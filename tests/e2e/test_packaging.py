"""The distribution: `python -m build` makes an sdist and a wheel (the wheel from the sdist,
so the sdist is complete), the wheel installs in a fresh venv with its dependencies, and
the installed tool runs and carries its package data.

Slow (about 30 s: the build, a venv, the dependencies from the pip cache or index).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest

from cli import __version__

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

PACKAGE_DATA = [
    "cli/data/moncompte.1",
    "cli/data/completions/moncompte.bash",
    "cli/data/completions/_moncompte",
    "cli/data/completions/moncompte.fish",
    "cli/data/completions/moncompte.ps1",
    "cli/locale/fr/LC_MESSAGES/moncompte.mo",
    "server/openapi.json",
    "server/migrations/script.py.mako",
    "server/migrations/versions/0001_baseline.py",
]


def _pip_env(tmp_path: Path) -> dict[str, str]:
    """The test session moved XDG_CACHE_HOME to a temporary dir: give pip its real cache
    back, so the dependencies come from it instead of the index when they can."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONCOMPTE_")}
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _build(tmp_path: Path, env: dict[str, str]) -> tuple[Path, Path | None]:
    out = tmp_path / "dist"
    if importlib.util.find_spec("build") is not None:
        command = [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)]
    else:  # `build` is not a test dependency everywhere: pip builds the wheel alone
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(ROOT)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels = list(out.glob("moncompte-*.whl"))
    sdists = list(out.glob("moncompte-*.tar.gz"))
    assert len(wheels) == 1, list(out.iterdir())
    return wheels[0], (sdists[0] if sdists else None)


def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    env = _pip_env(tmp_path)
    wheel, sdist = _build(tmp_path, env)
    assert wheel.name == f"moncompte-{__version__}-py3-none-any.whl"

    if sdist is not None:
        with tarfile.open(sdist) as archive:
            names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
        for needed in (
            "README.md",
            "CHANGELOG.md",
            "pyproject.toml",
            "completions/moncompte.bash",
            "docs/commands/README.md",
            "tests/conftest.py",
            *PACKAGE_DATA,
        ):
            assert needed in names, f"{needed} missing from {sdist.name}"

    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"{wheel}[sandbox]"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    binary = target / "bin" / "moncompte"
    run_env = {**env, "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}
    version = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, env=run_env, timeout=60
    )
    assert version.returncode == 0 and version.stdout == f"moncompte {__version__}\n"

    # Package data, where the installed code looks for it (not in this checkout).
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import cli, server, pathlib; print(pathlib.Path(cli.__file__).parent.parent)",
        ],
        capture_output=True,
        text=True,
        env=run_env,
        cwd=tmp_path,
        timeout=60,
    )
    site = Path(where.stdout.strip())
    assert site != ROOT and site.is_dir(), where.stderr
    for name in PACKAGE_DATA:
        assert (site / name).is_file(), f"{name} is not installed"
    assert (site / "cli/data/completions/moncompte.bash").read_text() == (
        ROOT / "completions" / "moncompte.bash"
    ).read_text()

    # The installed migrations run: Alembic finds its scripts inside the installed package.
    for args, said in (
        (["migrate"], "database created at 0001"),
        (["migrate", "--to", "base", "--yes"], "database moved from 0001 to base"),
    ):
        migrated = subprocess.run(
            [str(python), "-m", "server", *args, "--db", str(tmp_path / "m.db")],
            capture_output=True,
            text=True,
            env=run_env,
            cwd=tmp_path,
            timeout=60,
        )
        assert migrated.returncode == 0, migrated.stderr
        assert migrated.stdout.startswith(said)

    # And it runs a command: the built-in sandbox (the sandbox extra) answers.
    listed = subprocess.run(
        [str(binary), "contracts", "-o", "csv", "--columns", "id"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={
            **run_env,
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        },
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[:2] == ["id", "CT-0000001"]
    assert listed.stderr.startswith("sandbox: demo data")
