from __future__ import annotations

from rag.answer.checks.invented_names import invented_names, specifics
from tests.answer.helpers import passage

PAGE = passage(
    1,
    "By default, rustdoc writes to a directory named doc. Use --out-dir to change it; "
    "cargo doc calls rustdoc with the crate's src/lib.rs.",
    source="cli.md",
)


def test_what_an_answer_names_that_a_reader_could_look_up() -> None:
    answer = "用 `--html` 生成 HTML[1]，再用 `wkhtmltopdf` 转成 PDF，见 docs.rs[2]。"
    assert specifics(answer) == ["--html", "wkhtmltopdf", "HTML", "PDF", "docs.rs"]
    # an English sentence's plain words are not specifics; its options and paths are
    assert specifics("Use --out-dir to write to doc/index.html. The end.") == [
        "--out-dir",
        "doc/index.html",
    ]
    assert specifics("新建5G基站6000个。") == ["5G"]


def test_names_no_passage_holds_are_invented() -> None:
    assert invented_names("输出默认放在 doc 目录，可用 `--out-dir` 修改[1]。", "", [PAGE]) == []
    assert invented_names("运行 `cargo doc --no-deps`[1]。", "", [PAGE]) == ["--no-deps"]
    assert invented_names("用 wkhtmltopdf 转成 PDF。", "能导出 PDF 吗？", [PAGE]) == ["wkhtmltopdf"]
    # case and spacing as the passage writes them do not matter
    assert invented_names("Rustdoc 会读取 SRC/LIB.RS。", "", [PAGE]) == []


def test_a_path_the_pdf_broke_over_two_lines_is_not_invented() -> None:
    broken = passage(
        1, "在终端执行\n1 sudo cp texlive-fontconfig.conf /etc/fonts/conf.d/09-\ntexlive.conf"
    )
    answer = "执行 `sudo cp texlive-fontconfig.conf /etc/fonts/conf.d/09-texlive.conf`[1]。"
    assert invented_names(answer, "", [broken]) == []
    assert invented_names("复制到 /etc/fonts/conf.d/10-texlive.conf[1]。", "", [broken]) == [
        "/etc/fonts/conf.d/10-texlive.conf"
    ]
