"""README.md and README.zh-TW.md cannot drift apart: the same commands, the same headline numbers, each linked to the other."""

import os
import re

from conftest import ROOT

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?: ± \d+\.\d+)?")


def read(name: str) -> str:
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        return handle.read()


def commands(text: str) -> set[str]:
    """Every `python ...` command, in backticks or on an indented code line (without its comment)."""
    inline = re.findall(r"`(python [^`]+)`", text)
    blocks = re.findall(r"^ {4}(python \S.*?)\s*(?:#.*)?$", text, re.M)
    return {" ".join(command.split()) for command in inline + blocks}


def headline(text: str) -> list[str]:
    """The numbers of the first table, row by row."""
    table = re.search(r"^\|.*\|\n\|[ :|-]+\|\n((?:\|.*\|\n)+)", text, re.M).group(1)
    return NUMBER.findall(table)


def test_both_readmes_list_the_same_commands():
    english, chinese = commands(read("README.md")), commands(read("README.zh-TW.md"))
    assert len(english) >= 15
    assert english == chinese, {"only in README.md": english - chinese, "only in README.zh-TW.md": chinese - english}


def test_both_readmes_show_the_same_headline_numbers_as_the_report():
    english, chinese = headline(read("README.md")), headline(read("README.zh-TW.md"))
    assert "137,660" in english and "138,110" in english and "0.9661" in english
    assert english == chinese
    assert english == headline(read(os.path.join("results", "REPORT.md")).split("## DNN versus CNN", 1)[1])


def test_each_readme_links_to_the_other_at_the_top():
    assert "(README.zh-TW.md)" in read("README.md").split("\n## ", 1)[0]
    assert "(README.md)" in read("README.zh-TW.md").split("\n## ", 1)[0]


def test_the_chinese_readme_keeps_the_notes_own_wording():
    text = read("README.zh-TW.md")
    for term in ("filter", "Max Pooling", "Flatten", "gradient ascent", "特徵", "淺層", "深層"):
        assert term in text, term
