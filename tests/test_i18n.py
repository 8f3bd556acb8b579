"""fasthttp.i18n: gettext catalogs and the language chosen by Accept-Language."""

from __future__ import annotations

import gettext

import pytest
from helpers_i18n import make_localedir

from fasthttp.i18n import Catalogs, locale_to_tag, tag_to_locale


def test_tags_and_locale_names():
    assert locale_to_tag("pt_BR") == "pt-BR" and locale_to_tag("de_DE.UTF-8") == "de-DE"
    assert tag_to_locale("pt-br") == "pt_BR" and tag_to_locale("zh-Hant") == "zh_Hant"


def test_catalogs_from_a_locale_directory(tmp_path):
    catalogs = Catalogs(make_localedir(str(tmp_path)))
    assert catalogs.languages == ("de", "de-AT", "pt-BR", "en")
    assert catalogs.select("de-AT, de;q=0.5") == "de-AT"
    assert catalogs.select("de-CH") == "en"  # basic filtering: de-CH does not accept de
    assert catalogs.select("de") == "de"  # ... but de accepts de and de-AT; the first offered wins
    assert catalogs.select("pt-br") == "pt-BR"
    assert catalogs.select("fr, *;q=0.1") == "de"
    assert catalogs.select("fr") == "en"  # nothing acceptable: the default
    assert catalogs.select(None) == "de"
    assert catalogs.select("de;q=0, en") == "en"
    assert catalogs.translations("de").gettext("Hello") == "Hallo"
    assert catalogs.translations("de-at").gettext("Hello") == "Servus"
    assert catalogs.translations("xx").gettext("Hello") == "Hello"


def test_languages_order_and_given_translations(tmp_path):
    catalogs = Catalogs(make_localedir(str(tmp_path)), languages=["pt-BR", "de"], default="en")
    assert catalogs.languages == ("pt-BR", "de", "en")
    assert catalogs.select("*") == "pt-BR"
    with pytest.raises(ValueError):
        Catalogs(str(tmp_path), languages=["fr"])
    with pytest.raises(ValueError):
        Catalogs(str(tmp_path / "missing"))
    only = Catalogs(translations={"es": gettext.NullTranslations()}, default="en")
    assert only.languages == ("es", "en")
    assert Catalogs(default="en").select("de") == "en"


def test_hostile_accept_language(tmp_path):
    catalogs = Catalogs(make_localedir(str(tmp_path)))
    many = ", ".join(f"x{i};q=0.{i % 9 + 1}" for i in range(1000)) + ", pt;q=0.001"
    assert catalogs.select(many) == "pt-BR"
    for bad in ("de;q=2", "de;q=abc", ";;;", "de-;q=1", "1234567890", "\x01"):
        assert catalogs.select(bad) in catalogs.languages
