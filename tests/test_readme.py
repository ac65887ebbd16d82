"""README.md and README.zh-TW.md cannot drift apart: the same commands, the same headline numbers, each linked to the
other; and both stay true: the test command is what CI runs, every link finds its file, every installed command is named."""

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


# The headline table's columns that no run can change: parameters, seeds, the note's numbers. The accuracies and the
# seconds are what a user's own `python reproduce.py` measures on their processor and writes into results/REPORT.md.
FIXED = (1, 4, 5)


def fixed(text: str) -> list[list[str]]:
    """The numbers of the first table's columns that no run can change, row by row."""
    table = re.search(r"^\|.*\|\n\|[ :|-]+\|\n((?:\|.*\|\n)+)", text, re.M).group(1)
    rows = [line.strip("|").split("|") for line in table.splitlines()]
    return [[number for column in FIXED for number in NUMBER.findall(row[column])] for row in rows]


def report_headline(text: str) -> str:
    return text.split("## DNN versus CNN", 1)[1]


def test_both_readmes_list_the_same_commands():
    english, chinese = commands(read("README.md")), commands(read("README.zh-TW.md"))
    assert len(english) >= 15
    assert english == chinese, {"only in README.md": english - chinese, "only in README.zh-TW.md": chinese - english}


def test_both_readmes_show_the_same_headline_numbers_and_the_reports_parameters_and_seeds():
    english, chinese = headline(read("README.md")), headline(read("README.zh-TW.md"))
    assert "137,660" in english and "138,110" in english and "0.9661" in english
    assert english == chinese
    assert fixed(read("README.md")) == fixed(report_headline(read(os.path.join("results", "REPORT.md"))))


def test_a_report_a_users_run_wrote_on_another_processor_passes_and_a_wrong_parameter_count_does_not():
    """`python reproduce.py` rewrites results/REPORT.md with the user's own accuracies and seconds: the README check holds
    against it (it once compared the seconds and failed the quick subset); a changed parameter count still fails."""
    committed = report_headline(read(os.path.join("results", "REPORT.md")))
    theirs = re.sub(r"\| (\d+\.\d{4}) ± (\d\.\d{4}) \| (\d+\.\d{4}) ± (\d\.\d{4}) \|", "| 0.9987 ± 0.0011 | 0.9654 ± 0.0007 |", committed)
    theirs = re.sub(r"\| (\d+\.\d) \|\n", "| 58.3 |\n", theirs)
    assert headline(theirs) != headline(committed) and "58.3" in theirs and "0.9654" in theirs
    assert fixed(read("README.md")) == fixed(theirs)
    assert fixed(read("README.md")) != fixed(theirs.replace("137,660", "137,661"))


def test_each_readme_links_to_the_other_at_the_top():
    assert "(README.zh-TW.md)" in read("README.md").split("\n## ", 1)[0]
    assert "(README.md)" in read("README.zh-TW.md").split("\n## ", 1)[0]


def test_the_readmes_test_command_is_what_ci_runs():
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as handle:
        ci = [line for line in handle.read().splitlines() if line.strip() and not line.startswith("#")][-1]
    assert "ruff check ." in ci and "mkdocs build --strict" in ci and "python -m pytest" in ci
    for name in ("README.md", "README.zh-TW.md"):
        lines = read(name).splitlines()
        assert f"    {ci}" in lines, (name, ci)
        assert '    python -m pytest -m "not slow"' in lines, name  # and the quick subset


def test_the_readmes_links_find_their_files():
    for name in ("README.md", "README.zh-TW.md"):
        text = read(name)
        assert len(text.splitlines()) < 200, name  # the guides live in docs/; the README says where
        targets = {link.split("#")[0] for link in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in link}
        assert {"docs/index.md", "docs/reference/index.md", "notebooks/tour.ipynb"} <= targets, name
        missing = sorted(target for target in targets if target and not os.path.exists(os.path.join(ROOT, target)))
        assert not missing, (name, missing)


def test_both_readmes_name_every_installed_command():
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as handle:
        scripts = handle.read().split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    installed = re.findall(r"^([a-z][\w-]*) = ", scripts, re.M)
    assert len(installed) == 8
    for name in ("README.md", "README.zh-TW.md"):
        assert [command for command in installed if f"`{command}`" not in read(name)] == [], name


def test_the_chinese_readme_keeps_the_notes_own_wording():
    text = read("README.zh-TW.md")
    for term in ("filter", "Max Pooling", "Flatten", "gradient ascent", "特徵", "淺層", "深層"):
        assert term in text, term
