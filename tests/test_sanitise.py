"""Markdown from collectors and incident files never becomes a script link (issue 22, B5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashsite.render.markdown import markdown_filter, markdown_to_html
from projects import cli, write_project

from htmltree import all_attributes, parse

# Every spelling a browser decodes to a script URL: character references (decimal, hex,
# upper-case hex), a tab or newline inside the scheme, leading control characters and
# spaces, mixed case, and the other script-ish schemes.
HOSTILE_URLS = [
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#X6a;avascript:alert(1)",
    "&#0000106;avascript:alert(1)",
    "java&#x09;script:alert(1)",
    "java&#x0A;script:alert(1)",
    "java&#13;script:alert(1)",
    "&#x01;javascript:alert(1)",
    "&#x1F;&#x20;javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "jav&#x61;script&#x3A;alert(1)",
    "&#x4A;AVASCRIPT&colon;alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
]
DANGEROUS = ("javascript:", "vbscript:", "data:")


def _dangerous(value: str) -> bool:
    """As a browser reads a URL: no C0 controls or spaces (stricter: none anywhere)."""
    return "".join(ch for ch in value if ord(ch) > 0x20).lower().startswith(DANGEROUS)


def _hostile_links(html: str) -> list[str]:
    return [value for _, name, value in all_attributes(parse(html))
            if name in ("href", "src", "action", "formaction", "xlink:href") and _dangerous(value)]


def _markdown(url: str) -> str:
    return f"[x]({url}) ![i]({url}) <{url}> [r][ref]\n\n[ref]: {url}\n"


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_the_markdown_filter_drops_every_spelling_of_a_script_link(url: str) -> None:
    html = str(markdown_filter(_markdown(url)))
    assert _hostile_links(html) == [], html
    assert "x" in parse(html).text()  # the text stays


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_template_md_page_drops_every_spelling_of_a_script_link(url: str) -> None:
    html = markdown_to_html(f"# Page\n\n{_markdown(url)}")  # the page's own Markdown
    assert _hostile_links(html) == [], html


def test_the_markdown_filter_keeps_links_tables_and_code() -> None:
    source = ("See [docs](https://example.org/a?b=1&c=2 \"Docs\") and [rel](../x.html) "
              "and <mailto:ops@example.org>.\n\n"
              "| a | b |\n| :-- | --: |\n| 1 | 2 |\n\n"
              "```python\nprint('<hi>')\n```\n\n3. three\n4. four\n")
    tree = parse(str(markdown_filter(source)))
    assert [a.attrs["href"] for a in tree.find_all("a")] == [
        "https://example.org/a?b=1&c=2", "../x.html", "mailto:ops@example.org"]
    assert tree.find("a").attrs["title"] == "Docs"
    assert [c.text() for c in tree.find_all("td")] == ["1", "2"]
    assert [c.attrs["style"] for c in tree.find_all("td")] == [
        "text-align:left", "text-align:right"]
    assert tree.find("code").attrs["class"] == "language-python"
    assert tree.find("code").text() == "print('<hi>')\n"
    assert tree.find("ol").attrs["start"] == "3"


NOTE_MODULE = """
from dashsite import collector

URLS = {urls!r}

@collector
def notes():
    return "\\n\\n".join(f"[x]({{u}}) ![i]({{u}})" for u in URLS)

@collector
def urls():
    return URLS
"""
TEMPLATES = {
    "filtered": ("template.html", "<div>{{ notes | markdown }}</div>"),
    "page": ("template.md", "# Notes\n\n{{ notes | markdown }}\n\n"
                            "{% for u in urls %}[link]({{ u }})\n\n{% endfor %}"),
}


def test_collector_text_never_becomes_a_script_link_on_any_page(tmp_path: Path) -> None:
    module = NOTE_MODULE.format(urls=HOSTILE_URLS)
    write_project(tmp_path, {slug: {"dashboard.py": module, name: text}
                             for slug, (name, text) in TEMPLATES.items()})
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr
    pages = list((tmp_path / "site").rglob("*.html"))
    assert len(pages) > 4
    for page in pages:
        assert _hostile_links(page.read_text()) == [], page
    body = parse((tmp_path / "site" / "filtered" / "index.html").read_text()).find(
        "div", class_="dashboard-body")
    assert len(list(body.find_all("img"))) == len(HOSTILE_URLS)  # the images stay, without src


def test_an_incident_body_never_becomes_a_script_link(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": {"dashboard.py": NOTE_MODULE.format(urls=[]),
                                     "template.html": "<p>ok</p>"}})
    body = "\n\n".join(_markdown(url) for url in HOSTILE_URLS)
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "outage.md").write_text(
        f'+++\ntitle = "Outage"\nstart = 2026-11-27T20:15:00Z\n+++\n{body}\n'
        "Details in [the runbook](https://runbook.example/db).\n")
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "site" / "incidents" / "outage.html").read_text()
    assert _hostile_links(html) == []
    section = parse(html).find("section", class_="incident-body")
    kept = {a.attrs.get("href") for a in section.find_all("a")}
    assert kept <= {None, "#unsafe-link-removed", "https://runbook.example/db"}, kept
    assert "https://runbook.example/db" in kept


ESCAPED_MODULE = """
from dashsite import collector

@collector
def note():
    return "[Reset password](https://evil.example/phish) ![t](https://evil.example/t.png)"

@collector
def names():
    return ["[x](https://evil.example/list)", "**bold**"]
"""


def test_an_escaping_filter_in_a_template_md_keeps_data_text(tmp_path: Path) -> None:
    """``| e`` and ``| tojson`` made collector data Markup, which a template.md read as
    Markdown: a live link and a remote image from data. They stay text, as plain
    ``{{ note }}`` does."""
    template = ("# Notes\n\n<p id='e'>{{ note | e }}</p>\n\n{{ note | escape }}\n\n"
                "{{ note | forceescape }}\n\n<p id='j'>{{ names | tojson }}</p>\n")
    write_project(tmp_path, {"notes": {"dashboard.py": ESCAPED_MODULE, "template.md": template}})
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr
    body = parse((tmp_path / "site" / "notes" / "index.html").read_text()).find(
        "div", class_="dashboard-body")
    assert not list(body.find_all("a")) and not list(body.find_all("img"))
    assert not list(body.find_all("strong"))
    text = " ".join(body.text().split())
    assert text.count("[Reset password](https://evil.example/phish)") == 3
    assert '["[x](https://evil.example/list)", "**bold**"]' in text


def test_a_template_md_heading_never_takes_an_id_the_page_has(tmp_path: Path) -> None:
    """``## Main`` got id="main", the skip link's target, twice on one page."""
    write_project(tmp_path, {"notes": {
        "dashboard.py": "from dashsite import collector\n@collector\ndef h():\n    return 'Main'\n",
        "template.md": "## {{ h }}\n\nx\n\n## Recent incidents\n\ny\n\n## Disk\n\nz\n"}})
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "site" / "notes" / "index.html").read_text()
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert 'id="main-section"' in text and 'id="disk"' in text


def test_a_value_in_raw_html_of_a_template_md_keeps_its_characters(tmp_path: Path) -> None:
    """Backslashes escaped a value's Markdown characters, and Markdown leaves raw HTML as
    it is: href="…/my\\-file\\_v1\\.2\\.html" (a broken link) and the same in its text."""
    module = ("from dashsite import collector\n@collector\ndef path():\n"
              "    return 'my-file_v1.2.html'\n@collector\ndef note():\n"
              "    return '[x](https://evil.example) **b**'\n")
    template = ('<p id="r"><a href="https://example.com/{{ path }}">{{ path }}</a></p>\n\n'
                '<p id="n">{{ note }}</p>\n\n{{ note }}\n')
    write_project(tmp_path, {"notes": {"dashboard.py": module, "template.md": template}})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    page = parse((tmp_path / "site" / "notes" / "index.html").read_text())
    link = page.find("p", id="r").find("a")
    assert link.attrs["href"] == "https://example.com/my-file_v1.2.html"  # as a browser reads it
    assert link.text() == "my-file_v1.2.html"
    body = page.find("div", class_="dashboard-body")
    assert page.find("p", id="n").text() == "[x](https://evil.example) **b**"
    assert not list(body.find_all("strong")) and len(list(body.find_all("a"))) == 1


def test_values_in_code_of_a_template_md_read_as_they_are_and_never_run_in_a_script(
    tmp_path: Path,
) -> None:
    """A value's characters become references; Markdown escaped them again in code (the
    page showed '&#123;'). In a script a browser decodes none: data stays inert there
    (giving them back as characters let '\\', a backtick or a line break end a string)."""
    module = ("from dashsite import collector\n@collector\ndef d():\n"
              "    return {'a': [1, 2], 'b': 'x*y'}\n@collector\ndef path():\n"
              "    return 'my-file_v1.2.html'\n@collector\ndef x():\n"
              "    return 'a<b && c>d \"q\" it\\'s'\n@collector\ndef b():\n"
              "    return ';alert(1);//'\n@collector\ndef c():\n    return '\\nalert(4)\\n'\n")
    template = ("```json\n{{ d | tojson }}\n```\n\nInline `{{ path }}` and `{{ x }}`.\n\n"
                "Write `&#60;` for a less-than sign.\n\n"
                "<script>var b = '{{ b }}';\n// {{ c }}\n</script>\n")
    write_project(tmp_path, {"notes": {"dashboard.py": module, "template.md": template}})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    text = (tmp_path / "site" / "notes" / "index.html").read_text()
    body = parse(text).find("div", class_="dashboard-body")
    codes = [c.text() for c in body.find_all("code")]
    assert codes == ['{"a": [1, 2], "b": "x*y"}\n', "my-file_v1.2.html",
                     'a<b && c>d "q" it\'s', "&#60;"], codes  # the author's text as written
    script = text[text.index("<script>var b"):text.index("</script>", text.index("<script>var b"))]
    assert "alert(" not in script and "\nalert" not in script, script
