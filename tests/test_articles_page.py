"""docs/articles.md names every article the course mentions, and quotes each one right.

The articles themselves are not in the repository: they sit in the project's shared folder
(`../shared/articles/article_NNN.md` next to the checkout, or COURSE_ARTICLES_DIR). The quote
checks run where they are, and are skipped, saying why, where they are not.
"""

import os
import re
from pathlib import Path

import pytest

from conftest import ROOT

PAGE = ROOT / "docs" / "articles.md"
MENTION = re.compile(r"\b[Aa]rticles? (\d{3})\b")
QUOTE = re.compile(r"`([^`]+)`")


def _articles_dir() -> Path:
    return Path(os.environ.get("COURSE_ARTICLES_DIR", ROOT.parent / "shared" / "articles"))


def _article(number: str) -> str:
    folder = _articles_dir()
    if not (folder / f"article_{number}.md").is_file():
        pytest.skip(f"the articles are not in {folder} (set COURSE_ARTICLES_DIR): quotes not checked")
    return (folder / f"article_{number}.md").read_text(encoding="utf-8")


def _page() -> str:
    assert PAGE.is_file(), "docs/articles.md is missing: it names the articles the notebooks mention"
    return PAGE.read_text(encoding="utf-8")


def _mentions() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb")):
        for number in MENTION.findall(path.read_text(encoding="utf-8")):
            found.setdefault(number, set()).add(path.name)
    return found


def test_every_article_a_notebook_or_solution_mentions_is_on_the_articles_page():
    page = _page()
    mentions = _mentions()
    assert mentions, "no notebook mentions an article: the pattern is broken"
    for number, where in sorted(mentions.items()):
        assert f"| article {number} |" in page, f"article {number} (in {sorted(where)}) has no row in docs/articles.md"
        assert f"**Article {number}.**" in page, f"article {number}: say what it teaches in docs/articles.md"


def test_the_mention_pattern_finds_articles_in_notebook_text():
    assert MENTION.findall("Article 001's code; the articles 000 and article 004") == ["001", "000", "004"]


def _rows(page, pattern):
    return [line for line in page.splitlines() if re.match(pattern, line)]


def test_each_article_has_its_real_title_or_none_on_the_page():
    page = _page()
    for row in _rows(page, r"\| article \d{3} \|"):
        number = row.split("|")[1].split()[1]
        first_heading = next(line for line in _article(number).splitlines() if line.startswith("#"))
        title = first_heading.lstrip("#").strip()
        if title[0].isdigit():  # a numbered section heading: the file has no title line
            assert "none" in row.split("|")[2] and f"`{title}`" in row, f"article {number}: {row}"
        else:
            assert f"`{title}`" in row, f"article {number}: its title is {title!r}"


def test_quotes_on_the_articles_page_are_in_the_article_files():
    page = _page()
    checked = 0
    for row in _rows(page, r"\| article \d{3} \|"):  # the table of titles: quotes against that article
        number = row.split("|")[1].split()[1]
        for quote in QUOTE.findall(row):
            assert quote in _article(number), f"article {number} does not contain `{quote}`"
            checked += 1
    for number, paragraph in re.findall(r"\*\*Article (\d{3})\.\*\*(.*?)(?=\n\n)", page, flags=re.DOTALL):
        for quote in QUOTE.findall(paragraph):
            assert " ".join(quote.split()) in " ".join(_article(number).split()), \
                f"article {number} does not contain `{quote}`"
            checked += 1
    corrections = _rows(page, r"\| \d{3}[ ,]")
    assert corrections, "the table of corrections is missing"
    for row in corrections:  # only the column "what it says or does" quotes the articles
        numbers, said = re.findall(r"\d{3}", row.split("|")[1]), row.split("|")[2]
        for quote in QUOTE.findall(said):
            assert any(quote in _article(n) for n in numbers), f"no article of {numbers} contains `{quote}`"
            checked += 1
    log = page.split("### Article 002's training log")[1]
    for quote in QUOTE.findall(log):
        assert quote in _article("002"), f"article 002 does not contain `{quote}`"
        checked += 1
    assert checked > 50
