"""Spec §14.1 table integrity, §14.12 licence guard, user-table loaders."""

from __future__ import annotations

import pytest

from lc_core.io import DataError
from subchar.symbols import ESC, SEP, shifted_ascii
from subchar.tables import (
    SHIPPED_TABLES,
    TABLE_NAMES,
    Table,
    assign_indices,
    load_table,
    load_user_table,
    read_table,
    strip_index,
    table_path,
)


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_table_is_bijective_and_clean(name):
    t = load_table(name)
    assert len(t) > 10000
    reserved = set(shifted_ascii().values()) | {SEP, ESC}
    codes = [c for cs in t.codes.values() for c in cs]
    assert len(set(codes)) == len(codes)
    for ch, cs in t.codes.items():
        for code in cs:
            assert t.reverse[code] == ch
            assert not reserved.intersection(code)
            assert set(code) <= t.alphabet


@pytest.mark.parametrize(
    ("name", "alphabet"),
    [
        ("pinyin", set("abcdefghijklmnopqrstuvwxyz0123456789❁❂❃❄❅")),
        ("wubi", set("abcdefghijklmnopqrstuvwxy0123456789")),
        ("cangjie", set("abcdefghijklmnopqrstuvwxyz0123456789")),
        ("stroke", set("hspnz0123456789")),
        ("random_index", set("0123456789")),
    ],
)
def test_code_alphabet(name, alphabet):
    assert load_table(name).alphabet <= alphabet


def test_zhuyin_alphabet_is_bopomofo_tones_and_digits():
    for sym in load_table("zhuyin").alphabet:
        assert sym.isdigit() or sym in "ˊˇˋ˙" or 0x3105 <= ord(sym) <= 0x312F or 0x31A0 <= ord(sym) <= 0x31BF


def test_known_codes():
    assert strip_index(load_table("pinyin").code("中")) == "zhong❁"
    assert strip_index(load_table("pinyin").code("的")) == "de❅"
    assert strip_index(load_table("zhuyin").code("的")) == "ㄉㄜ˙"
    assert load_table("wubi").code("中") == "k"
    assert load_table("wubi").code("国") == "l"
    # 他 她 它 share ta❁ (tone 1); 花 huā and 画 huà differ in tone
    p = load_table("pinyin")
    assert {strip_index(p.code(c)) for c in "他她它"} == {"ta❁"}
    assert strip_index(p.code("花")) != strip_index(p.code("画"))


def test_indices_are_deterministic_frequency_then_code_point():
    base = {"乙": ["x"], "甲": ["x"], "丙": ["x"], "丁": ["y"]}
    got = assign_indices(base, {"乙": 5, "甲": 5, "丙": 9})
    # 丙 most frequent; 乙 (U+4E59) and 甲 (U+7532) tie and go by code point; 丁 is alone: no index
    assert got == {"丙": ("x0",), "乙": ("x1",), "甲": ("x2",), "丁": ("y",)}
    assert assign_indices(dict(reversed(list(base.items()))), {"乙": 5, "甲": 5, "丙": 9}) == got


@pytest.mark.parametrize("name", SHIPPED_TABLES)
def test_shipped_file_roundtrips_through_the_parser(name):
    text = table_path(name).read_text(encoding="utf-8")
    assert read_table(text, name=name).dumps() == text


@pytest.fixture(scope="module")
def rebuilt():
    """Every shipped table rebuilt once from its installed permissive source (a missing source is reported)."""
    from subchar.sources import SourceSet, build_tables

    src = SourceSet()
    return src, build_tables(SHIPPED_TABLES, None, src)


@pytest.mark.parametrize("name", SHIPPED_TABLES)
def test_rebuild_is_byte_identical(rebuilt, name):
    from subchar.sources import SourceMissing

    table = rebuilt[1][name]
    if isinstance(table, SourceMissing):
        pytest.skip(f"source of {name} not installed: {table}")
    assert table.dumps() == table_path(name).read_text(encoding="utf-8")


def test_build_reads_no_copyleft_path(rebuilt):
    src, built = rebuilt
    if not src.read_paths:
        pytest.skip("no file-based source installed (pywubi, pycorrector, Unihan): nothing to guard")
    for p in src.read_paths:
        assert "rime" not in p.lower() and "fcitx" not in p.lower(), p


def test_read_table_errors_name_file_line_and_field(tmp_path):
    p = tmp_path / "bad.tsv"
    with pytest.raises(DataError, match=r"bad.tsv:2: field 'frequency'"):
        read_table("中\tzhong\t1\n国\tguo\tmany\n", path=p)
    with pytest.raises(DataError, match="shared"):
        read_table("中\tzhong\t1\n国\tzhong\t1\n")
    with pytest.raises(DataError, match="reserved"):
        Table("t", {"中": ("a" + SEP,)}, {})


def test_rime_loader_picks_first_or_last(tmp_path):
    p = tmp_path / "stroke.dict.yaml"
    p.write_text("---\nname: stroke\nversion: '1'\n...\n一\th\t100\n丁\thz\n丁\ths\n丁丁\thzhz\n七\thz\n", encoding="utf-8")
    first = load_user_table(p, freq={"丁": 10})
    assert first.name == "stroke"
    assert first.code("丁") == "hz0" and first.code("七") == "hz1" and first.code("一") == "h"
    last = load_user_table(p, pick="last", freq={})
    assert last.code("丁") == "hs" and last.code("七") == "hz"
    assert "丁丁" not in last.codes


def test_fcitx_loader(tmp_path):
    p = tmp_path / "zhengma.txt"
    p.write_text("键码=abcdefghijklmnopqrstuvwxyz\n[数据]\nj 中\njc 国\nd 的\nd 大\n", encoding="utf-8")
    t = load_user_table(p, freq={"的": 9, "大": 1})
    assert t.name == "zhengma"
    assert t.codes == {"中": ("j",), "国": ("jc",), "的": ("d0",), "大": ("d1",)}
