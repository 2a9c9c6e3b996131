"""README is the front door and docs/ the pages behind it: what a newcomer relies on there holds.

Plain CPython, reading files only: every relative link (and its #anchor) resolves, README stays
short, and README's data-flow table names every module of firmware/ei exactly once.
"""
import collections
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
README_MAX_LINES = 250

_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _prose(text):
    """The page without its code blocks and code spans, where a "](" is not a link."""
    return _CODE.sub("", _FENCE.sub("", text))


def _anchors(text):
    """The #anchors GitHub makes of a page's headings (lowercase, punctuation dropped, spaces
    to hyphens, a repeated one numbered)."""
    seen = collections.Counter()
    out = set()
    for line in _FENCE.sub("", text).splitlines():
        m = re.match(r"#{1,6} (.*)", line)
        if not m:
            continue
        slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        out.add(slug if not seen[slug] else "%s-%d" % (slug, seen[slug]))
        seen[slug] += 1
    return out


def _relative_links():
    for page in PAGES:
        for target in _LINK.findall(_prose(page.read_text())):
            if not re.match(r"[a-z]+:", target):
                yield page, target


def test_every_relative_link_in_readme_and_docs_resolves_to_a_file_and_heading():
    links = list(_relative_links())
    assert len(links) > 20, "the link pattern found too few links to be checking anything"
    broken = []
    for page, target in links:
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append("%s: %s (no such file)" % (page.name, target))
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest.read_text()):
            broken.append("%s: %s (no such heading)" % (page.name, target))
    assert not broken, "\n".join(broken)


def test_readme_stays_under_250_lines():
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines < README_MAX_LINES, "README.md has %d lines: move detail to docs/" % lines


def test_readme_data_flow_table_names_every_firmware_module_once():
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## The data flow\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    named = collections.Counter(re.findall(r"`(ei/[\w/]+\.py)`", "\n".join(rows)))
    modules = {"ei/" + p.relative_to(ROOT / "firmware" / "ei").as_posix()
               for p in (ROOT / "firmware" / "ei").rglob("*.py")}
    assert sorted(m for m in modules if m not in named) == [], "modules missing from the table"
    assert sorted(m for m in named if m not in modules) == [], "the table names no such module"
    assert sorted(m for m, n in named.items() if n > 1) == [], "named more than once"
