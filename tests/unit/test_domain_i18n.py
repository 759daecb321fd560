"""domain.i18n: a domain text is its English sentence, and is worded again, with its dates
and amounts formatted, in the language of the CLI's catalogue."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from cli import i18n
from domain.i18n import ENGLISH, N_, Money, Text, localize


@pytest.fixture()
def french() -> Iterator[None]:
    i18n.activate("fr")
    yield
    i18n.activate("en")


def test_the_english_sentence_is_the_string() -> None:
    text = Text(
        N_("{a} on {d} at {t}"),
        a=Money(123456),
        d=date(2026, 11, 5),
        t=datetime(2026, 12, 6, 1, 0, tzinfo=UTC),
    )
    assert text == "€1,234.56 on 2026-11-05 at 2026-12-06 01:00 UTC"
    assert (
        json.dumps({"f": text}) == '{"f": "\\u20ac1,234.56 on 2026-11-05 at 2026-12-06 01:00 UTC"}'
    )
    assert localize(text, ENGLISH) == text


def test_french_formats_the_arguments_even_without_a_translation(french: None) -> None:
    text = Text("not in the catalogue {a} {d} {h}", a=Money(-2999), d=date(2026, 1, 2), h=53.2)
    assert i18n.localized(text) == "not in the catalogue -29,99 € 02/01/2026 53,2"


def test_a_catalogue_template_is_translated_and_nested_texts_too(french: None) -> None:
    usage = Text(N_("Usage:"))  # in the catalogue (Typer's own message)
    outer = Text("{u} {x}", u=usage, x="data stays as it is")
    assert outer == "Usage: data stays as it is"
    assert i18n.localized(outer) == "Utilisation : data stays as it is"


def test_plural_picks_by_n() -> None:
    assert Text.plural(N_("{n} day"), N_("{n} days"), 1) == "1 day"
    assert Text.plural(N_("{n} day"), N_("{n} days"), 3, extra=1) == "3 days"


def test_joined_and_concatenation_keep_each_part_translatable(french: None) -> None:
    usage = Text(N_("Usage:"))
    joined = Text.joined([usage, "plain", usage])
    assert joined == "Usage:; plain; Usage:"
    assert i18n.localized(joined) == "Utilisation :; plain; Utilisation :"
    assert i18n.localized(usage + " x") == "Utilisation : x"
    assert i18n.localized("x " + usage) == "x Utilisation :"
    assert i18n.localized("plain") == "plain"


def test_copies_and_pickles_keep_the_template(french: None) -> None:
    text = Text("{u}", u=Text(N_("Usage:")))
    for again in (copy.deepcopy(text), pickle.loads(pickle.dumps(text))):
        assert isinstance(again, Text)
        assert again == text
        assert i18n.localized(again) == "Utilisation :"


def test_a_text_separator_is_translated_too(french: None) -> None:
    colon = Text(N_("Usage:"))  # any catalogue message stands for a separator here
    joined = Text.joined(["a", "b"], colon)
    assert joined == "aUsage:b"
    assert i18n.localized(joined) == "aUtilisation :b"
