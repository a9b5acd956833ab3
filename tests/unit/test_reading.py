"""Reading source files: exact line numbers, ragged rows, gzip by content, encodings."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from wholeplace.errors import InputError
from wholeplace.ingest.reading import LINE_COLUMN, read_source


def test_fast_and_exact_paths_give_the_same_line_numbers(tmp_path: Path) -> None:
    simple = tmp_path / "simple.csv"
    simple.write_text('a,b\n1,"x, y"\n2,z\n')
    multi = tmp_path / "multi.csv"
    multi.write_text('a,b\n1,"line one\nline two"\n\n2,z\n')
    assert read_source(simple).rows[LINE_COLUMN].to_list() == [2, 3]
    assert read_source(multi).rows[LINE_COLUMN].to_list() == [2, 5]
    assert read_source(multi).rows["b"].to_list() == ["line one\nline two", "z"]


def test_ragged_rows_are_kept_apart_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n")
    source = read_source(path)
    assert source.rows.height == 1
    assert [(r.line, len(r.fields)) for r in source.ragged] == [(3, 2), (4, 4)]
    assert source.rows_read == 3


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "plain-name.csv"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    assert read_source(path).rows["b"].to_list() == ["2"]


def test_truncated_gzip_names_the_file_and_line(tmp_path: Path) -> None:
    data = gzip.compress(("a,b\n" + "1,2\n" * 5000).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.csv\.gz.*truncated or corrupt") as caught:
        read_source(path)
    assert caught.value.problems[0].line is not None


def test_wrong_encoding_names_line_and_character(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\n1,ok\n2,caf\u00e9\n".encode("cp1252"))
    with pytest.raises(InputError, match="line 3") as caught:
        read_source(path)
    assert "cp1252" in str(caught.value)


def test_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffa,b\n1,2\n".encode())
    assert read_source(path).header == ["a", "b"]


@pytest.mark.parametrize(("content", "message"), [(b"", "empty"), (b"a,,c\n1,2,3\n", "blank"),
                                                  (b"a,a\n1,2\n", "twice")])
def test_unusable_headers_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_source(path)


def test_carriage_return_inside_a_quoted_field_is_read_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    path.write_bytes(b'a,b\n1,"x\ry"\n2,z\n')
    source = read_source(path)
    assert source.rows["b"].to_list() == ["x\ry", "z"]
    assert source.ragged == []


def test_an_unclosed_quote_before_a_huge_field_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "unclosed.csv"
    path.write_text('a,b\n1,"' + "x" * 200_000 + "\n2,3\n")
    with pytest.raises(InputError, match=r"unclosed\.csv, line 2") as caught:
        read_source(path)
    assert "quote" in str(caught.value)
