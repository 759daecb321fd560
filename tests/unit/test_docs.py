"""The documentation stays true: generated pages and the man page match the app, the README
documents every MONCOMPTE_* variable the code reads, and local links resolve."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_docs"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    files: dict[Path, str] = _gen_docs().outputs()
    return files


def test_generated_docs_and_man_page_are_current(generated: dict[Path, str]) -> None:
    stale = _gen_docs().stale(generated)
    names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
    assert not stale, f"stale: {names}; regenerate with: python scripts/gen_docs.py"


def test_one_page_per_command(generated: dict[Path, str]) -> None:
    from cli.app import COMMANDS

    pages = {p.stem for p in generated if p.parent == ROOT / "docs" / "commands"}
    assert pages == {e.name for e in COMMANDS} | {"README"}
    invoices = generated[ROOT / "docs" / "commands" / "invoices.md"]
    for heading in ("`moncompte invoices list`", "`moncompte invoices show`", "**Options**"):
        assert heading in invoices


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_man_page_is_clean_roff(generated: dict[Path, str]) -> None:
    man = generated[ROOT / "cli" / "data" / "moncompte.1"]
    result = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z"], input=man, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    for section in ("NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT", "FILES"):
        assert f".SH {section}" in man


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def test_readme_documents_every_environment_variable_the_code_reads() -> None:
    used: set[str] = set()
    for folder in ("cli", "commands"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r"[\"'](MONCOMPTE_[A-Z_]+)[\"']", path.read_text("utf-8")))
    used.discard("MONCOMPTE_COMPLETE")  # not a variable: part of _MONCOMPTE_COMPLETE
    documented = set(re.findall(r"`(MONCOMPTE_[A-Z_]+)`", _readme_section("Environment variables")))
    assert used - documented == set(), "add them to README.md's environment table"


def test_readme_quick_start_has_the_two_commands() -> None:
    block = _readme_section("Quick start").split("```")[1].strip().splitlines()
    assert len(block) == 2
    assert block[0].endswith(".venv/bin/moncompte invoices")
    assert block[1].endswith(".venv/bin/python -m pytest")


@pytest.mark.parametrize(
    "page", [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "docs/commands/README.md"]
)
def test_local_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
