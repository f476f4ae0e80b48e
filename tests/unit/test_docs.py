"""The documentation holds together: README.md stays a landing page, docs/README.md lists every
page, and every relative link in README.md and docs/ reaches a file of the repository, and a
heading of it when the link names one (by GitHub's rule for heading anchors)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README_MAX_LINES = 250
# Pages that another branch adds: a link to one is checked like any other once the page exists.
PENDING: set[str] = set()

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
# [text](target) and ![alt](target); the text may hold one level of brackets.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+[\"'(][^)]*)?\)"
)
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    fence = ""
    for number, line in enumerate(text.splitlines(), start=1):
        opening = FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
            continue
        yield number, line


def heading_text(markdown: str) -> str:
    """What a heading shows: the text of its links, images and code, without the markup."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("`", "").replace("*", "")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, only letters, digits, spaces, '-' and '_' kept,
    each space a '-'."""
    kept = "".join(c for c in heading_text(heading).strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a page offers: its headings' (a repeated one gets -1, -2...) and HTML ones."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    previous = ""
    for _, line in prose_lines(text):
        heading = ATX_HEADING.match(line)
        title = None
        if heading:
            title = heading.group(2) or ""
        elif (
            previous.strip()
            and SETEXT_UNDERLINE.match(line)
            and not previous.lstrip().startswith(("-", "*", "+", "|", ">"))
        ):
            title = previous
        if title is not None:
            base = slug(title)
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        found.update(HTML_ANCHOR.findall(line))
        previous = "" if heading else line
    return found


def links(text: str) -> Iterator[tuple[int, str]]:
    """The line and target of every link and image outside code."""
    for number, line in prose_lines(text):
        bare = CODE_SPAN.sub("", line)
        for match in INLINE_LINK.finditer(bare):
            yield number, match.group(1).strip("<>")
        definition = REFERENCE_DEFINITION.match(bare)
        if definition:
            yield number, definition.group(1).strip("<>")


def problems_of(page: Path) -> list[str]:
    problems = []
    for number, target in links(page.read_text()):
        where = f"{name(page)}:{number}: link {target!r}"
        if SCHEME.match(target) or target.startswith("//"):
            continue  # a web address, not a file of the repository
        path_part, _, anchor = target.partition("#")
        path_part = unquote(path_part)
        if not path_part:
            destination = page
        elif path_part.startswith("/"):
            destination = (ROOT / path_part.lstrip("/")).resolve()
        else:
            destination = (page.parent / path_part).resolve()
        if not destination.is_relative_to(ROOT):
            problems.append(f"{where}: points outside the repository")
            continue
        if not destination.exists():
            if name(destination) not in PENDING:
                problems.append(f"{where}: {name(destination)} does not exist")
            continue
        if anchor and destination.suffix == ".md":
            offered = anchors(destination.read_text())
            if unquote(anchor) not in offered:
                problems.append(
                    f"{where}: {name(destination)} has no heading with the anchor #{anchor} "
                    f"(it has: {', '.join(sorted(offered))})"
                )
    return problems


def test_the_readme_is_a_landing_page() -> None:
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines, more than {README_MAX_LINES}: move the details to docs/"
    )


@pytest.mark.parametrize("page", pages(), ids=name)
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    problems = problems_of(page)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_docs_index_lists_every_page() -> None:
    index = DOCS / "README.md"
    listed = {
        (index.parent / unquote(target.partition("#")[0])).resolve()
        for _, target in links(index.read_text())
        if not SCHEME.match(target)
    }
    missing = [name(page) for page in pages()[1:] if page != index and page not in listed]
    assert not missing, f"docs/README.md does not link to: {', '.join(missing)}"
    readme_targets = {target for _, target in links((ROOT / "README.md").read_text())}
    assert "docs/README.md" in readme_targets, "README.md does not link to docs/README.md"


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Quick start", "quick-start"),
        ("What `make demo` starts", "what-make-demo-starts"),
        ("Health, readiness, metrics", "health-readiness-metrics"),
        ("Who may do what", "who-may-do-what"),
        ("[Linked](other.md) heading", "linked-heading"),
        ("Claiming, releasing, dismissing", "claiming-releasing-dismissing"),
        ("snake_case and 2 spaces  here", "snake_case-and-2-spaces--here"),
        ("Saat sebuah unggahan viral 📥", "saat-sebuah-unggahan-viral-"),
    ],
)
def test_anchors_follow_githubs_rule(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_repeated_headings_get_numbered_anchors_and_code_blocks_hold_none() -> None:
    page = "# Notes\n\n## Notes\n\n```\n# not a heading\n```\n\n## Notes\n\nTitle\n-----\n"
    assert anchors(page) == {"notes", "notes-1", "notes-2", "title"}


def test_links_in_code_are_not_links() -> None:
    page = "See [a](a.md#x) and `[b](b.md)`.\n\n```\n[c](c.md)\n```\n\n[d]: d.md\n"
    assert [target for _, target in links(page)] == ["a.md#x", "d.md"]
