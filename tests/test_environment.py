from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from dashsite import StatusCell, StatusLevel, create_environment
from dashsite.types import filters

from htmltree import parse


def test_autoescape_is_on_for_every_template(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("{{ x }}")
    env = create_environment([tmp_path])
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert env.get_template("page.txt").render(x="<b>") == "&lt;b&gt;"


def test_render_filter_in_both_modes() -> None:
    env = create_environment()
    cell = StatusCell("UP", StatusLevel.OK)
    classy = parse(env.from_string("{{ c | render }}").render(c=cell)).find("span")
    assert "status-ok" in classy.classes
    inline = parse(env.from_string("{{ c | render(inline_css=True) }}").render(c=cell)).find("span")
    assert "class" not in inline.attrs and "background-color" in inline.attrs["style"]
    email_env = create_environment(inline_css=True)
    assert "class" not in parse(email_env.from_string("{{ c | render }}").render(c=cell)).find(
        "span").attrs
    assert env.from_string("{{ '<i>' | render }}").render() == "&lt;i&gt;"


def test_layouts_can_be_extended(tmp_path: Path) -> None:
    (tmp_path / "layout.html").write_text("<main>{% block body %}{% endblock %}</main>")
    env = create_environment([tmp_path])
    page = env.from_string("{% extends 'layout.html' %}{% block body %}hi{% endblock %}")
    assert page.render() == "<main>hi</main>"


def test_undefined_is_an_error_unless_lenient() -> None:
    with pytest.raises(UndefinedError):
        create_environment().from_string("{{ nope }}").render()
    assert create_environment(strict=False).from_string("[{{ nope }}]").render() == "[]"
    assert create_environment().from_string("{{ x is defined }}").render() == "False"


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("{{ v | number }}", 1234567, "1,234,567"),
        ("{{ v | number(2) }}", 3.14159, "3.14"),
        ("{{ v | percent }}", 0.953, "95%"),
        ("{{ v | bytes }}", 1536, "1.5 KiB"),
        ("{{ v | bytes }}", 512, "512 B"),
        ("{{ v | bytes }}", 5 * 1024**3, "5.0 GiB"),
        ("{{ v | duration }}", 0.25, "250 ms"),
        ("{{ v | duration }}", 4.2, "4.2 s"),
        ("{{ v | duration }}", 200, "3m 20s"),
        ("{{ v | duration }}", 7500, "2h 5m"),
        ("{{ v | duration }}", 3 * 86400 + 4 * 3600, "3d 4h"),
        ("{{ v | timestamp }}", datetime(2026, 11, 27, 20, 15, tzinfo=UTC), "2026-11-27 20:15 UTC"),
        ("{{ v | timestamp }}", "2026-11-27T20:15:00Z", "2026-11-27 20:15 UTC"),
        ("{{ v | timestamp }}", 0, "1970-01-01 00:00 UTC"),
        ("{{ v | isotime }}", "2026-11-27T21:15:00+01:00", "2026-11-27T20:15:00Z"),
        ("{{ v | number }}", None, "—"),
    ],
)
def test_formatting_filters(template: str, value: object, expected: str) -> None:
    assert create_environment().from_string(template).render(v=value) == expected


def test_every_filter_is_installed_and_documented() -> None:
    """Each of dashsite's filters is in the environment, and the docs' templates page names it."""
    import re
    from pathlib import Path

    from jinja2.filters import FILTERS as JINJA_FILTERS

    env = create_environment()
    ours = {name for name, f in env.filters.items()  # (Jinja's escaping filters, wrapped
            if f is not JINJA_FILTERS.get(name) and not getattr(f, "wraps_jinja", False)}
    assert set(filters.FILTERS) <= ours
    readme = (Path(__file__).parents[1] / "docs" / "reference" / "templates.md").read_text()
    line = next(x for x in readme.split("\n\n") if x.startswith("Render types:"))
    documented = set(re.findall(r"`(\w+)(?:\([^`]*\))?`", line.split("Filters:", 1)[1]))
    assert ours == documented


def test_the_command_line_does_not_load_the_library_to_print_help() -> None:
    import subprocess
    import sys

    code = (
        "import sys, dashsite.cli\n"
        "loaded = [m for m in ('jinja2', 'dashsite.types.charts', 'dashsite.collection.engine') if m in sys.modules]\n"
        "sys.exit(str(loaded) if loaded else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    import dashsite

    for name in dashsite.__all__:  # and every public name still resolves
        assert getattr(dashsite, name) is not None, name
    assert set(dashsite.__all__) - {"__version__"} == set(dashsite._EXPORTS)


def test_identical_sources_compile_once_but_keep_their_own_names(tmp_path: Path) -> None:
    from dashsite.core.errors import RenderError
    from dashsite.render.pages import compile_template, render_compiled

    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "t.html").write_text("ok {{ x }}\n{{ missing }}\n")
    env = create_environment([tmp_path])
    first, second = env.get_template("one/t.html"), env.get_template("two/t.html")
    assert len(env._compiled) == 1  # type: ignore[attr-defined]
    assert (first.name, second.name) == ("one/t.html", "two/t.html")
    assert second.filename == str(tmp_path / "two" / "t.html")
    with pytest.raises(RenderError) as info:
        render_compiled(compile_template(env, name="two/t.html"), {"x": 1})
    assert info.value.path == str(tmp_path / "two" / "t.html") and info.value.line == 2
    assert create_environment().from_string("{{ 1 + 1 }}").render() == "2"


def test_finalize_is_compiled_into_markdown_templates_only(tmp_path) -> None:
    (tmp_path / "page.html").write_text("{{ x }}")
    (tmp_path / "page.md").write_text("{{ x }}")
    env = create_environment([tmp_path])
    html_code = env.compile(env.loader.get_source(env, "page.html")[0], name="page.html", raw=True)
    md_code = env.compile(env.loader.get_source(env, "page.md")[0], name="page.md", raw=True)
    assert "environment.finalize(" not in html_code
    assert "environment.finalize(" in md_code
    value = "[reset](https://evil.example)"
    assert env.get_template("page.html").render(x=value) == value
    assert env.get_template("page.md").render(x=value) != value  # kept as text, not a link
    assert env.finalize is not None  # the environment keeps it for the Markdown ones


def _count_generated(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[str | None]:
    """The names of the templates Jinja2 generates code for from now on; ``folder/t.html``
    written with a constant for a ``shout`` filter and a source no other test has."""
    import uuid

    import jinja2

    generated: list[str | None] = []
    real = jinja2.Environment._generate

    def counting(self, source, name, filename, defer_init=False):  # type: ignore[no-untyped-def]
        generated.append(name)
        return real(self, source, name, filename, defer_init)

    monkeypatch.setattr(jinja2.Environment, "_generate", counting)
    (folder / "t.html").write_text(f"{{{{ 'a' | shout }}}} {{{{ x }}}} {uuid.uuid4()}\n")
    return generated


def test_environments_set_up_alike_share_compiled_code(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    generated = _count_generated(monkeypatch, tmp_path)

    def environment(shout):  # type: ignore[no-untyped-def]
        env = create_environment([tmp_path])
        env.filters["shout"] = shout
        return env

    def loud(text: str) -> str:
        return text.upper()

    first, second = environment(loud), environment(loud)
    assert first.get_template("t.html").render(x=1).startswith("A 1 ")
    assert second.get_template("t.html").render(x=2).startswith("A 2 ")
    assert generated == ["t.html"]  # compiled once for both (a later build, a preview)
    # The optimizer ran 'shout' on the constant at compile time: another filter of that
    # name must get code of its own, not the first one's folded "A".
    quiet = environment(str.lower)
    assert quiet.get_template("t.html").render(x=3).startswith("a 3 ")
    assert generated == ["t.html", "t.html"]
    inline = create_environment([tmp_path], inline_css=True)  # the mail's: its own render
    inline.filters["shout"] = loud
    assert inline.get_template("t.html").render(x=4).startswith("A 4 ")
    assert len(generated) == 3


def _loud(text: str) -> str:
    return text.upper()


def test_compiled_templates_are_kept_for_the_next_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A build compiles the theme once; the next build's process takes the code from
    ``.dashsite/bytecode/templates`` unless anything it was generated from changed."""
    from dashsite.render import compiled
    from dashsite.render import environment as environment_module

    generated = _count_generated(monkeypatch, tmp_path)
    kept = tmp_path / "kept"
    loud = _loud  # (a module's function: a closure has no name to be kept by)

    def new_process_render(shout, x: int) -> str:  # type: ignore[no-untyped-def]
        monkeypatch.setattr(environment_module, "_SHARED_CODE", {})  # nothing in memory
        env = create_environment([tmp_path], code_folder=kept)
        env.filters["shout"] = shout
        return env.get_template("t.html").render(x=x)

    assert new_process_render(loud, 1).startswith("A 1 ")
    (file,) = kept.glob("*.code")
    assert new_process_render(loud, 2).startswith("A 2 ")
    assert generated == ["t.html"]  # the second process compiled nothing
    # Another filter of that name (Jinja2 folded the first one's "A" into the code), or
    # the same one edited: compiled again, never run as it was.
    assert new_process_render(str.lower, 3).startswith("a 3 ")
    monkeypatch.setitem(compiled._SOURCES, loud.__module__, "edited")
    assert new_process_render(loud, 4).startswith("A 4 ")
    assert generated == ["t.html"] * 3 and len(list(kept.glob("*.code"))) == 3
    # A damaged file is compiled again and written whole.
    file.write_bytes(file.read_bytes()[:-40])
    monkeypatch.delitem(compiled._SOURCES, loud.__module__)
    assert new_process_render(loud, 5).startswith("A 5 ")
    assert generated == ["t.html"] * 4
    assert new_process_render(loud, 6).startswith("A 6 ") and generated == ["t.html"] * 4


def test_a_build_keeps_the_themes_code_beside_its_state_not_in_the_site(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dashsite.render import environment as environment_module
    from projects import build, simple, write_project

    monkeypatch.setattr(environment_module, "_SHARED_CODE", {})  # as in a new process
    root = write_project(tmp_path, {"alpha": simple("Alpha")})
    build(root, version_id="v1")
    assert len(list((root / ".dashsite" / "bytecode" / "templates").glob("*.code"))) >= 3
    assert not list((root / "site").rglob("*.code"))


def test_code_is_kept_on_disk_only_when_names_tell_what_generated_it(tmp_path: Path) -> None:
    """An autoescape function is applied when the code is generated, and a closure or a
    lambda has no name that tells two apart: their environments keep code in memory only."""
    from jinja2 import select_autoescape

    plain = create_environment(code_folder=tmp_path)
    assert plain._kept_key(("x", False, False)) is not None  # type: ignore[attr-defined]
    chosen = create_environment(code_folder=tmp_path, autoescape=select_autoescape(["html"]))
    assert chosen._kept_key(("x", False, False)) is None  # type: ignore[attr-defined]
    plain.filters["shout"] = lambda text: text.upper()
    assert plain._kept_key(("x", False, False)) is None  # type: ignore[attr-defined]
    mail = create_environment(code_folder=tmp_path, inline_css=True)
    page = create_environment(code_folder=tmp_path)
    assert mail._kept_key(("x", False, False)) not in (  # type: ignore[attr-defined]
        None, page._kept_key(("x", False, False)))  # type: ignore[attr-defined]


def test_kept_code_stays_for_every_template_in_use_however_many(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A site of more dashboards than KEEP keeps each one's code from build to build;
    what no build read for a week goes once the folder is past KEEP."""
    import os
    import time

    from dashsite.render import compiled

    monkeypatch.setattr(compiled, "KEEP", 3)
    monkeypatch.setattr(compiled, "TRIM_EVERY", 1)
    code = compile("x = 1", "t", "exec")
    folder = tmp_path / "kept"
    in_use = [f"k{n}" for n in range(6)]
    first = compiled.CodeFolder(folder)  # a build of six dashboards
    for key in in_use:
        assert first.get(key) is None
        first.put(key, code, key)
    second = compiled.CodeFolder(folder)  # the next build: every one is there
    assert all(second.get(key) == (code, key) for key in in_use)
    # Two left unused for eight days (an edit in serve --watch, a removed dashboard)...
    week_ago = time.time() - 8 * 86400
    for key in ("k0", "k1"):
        os.utime(folder / f"{key}.code", (week_ago, week_ago))
    # ...and one used a week ago, read again now: marked in use, so it stays.
    os.utime(folder / "k2.code", (week_ago, week_ago))
    assert second.get("k2") == (code, "k2")
    second.put("k6", code, "k6")  # a write looks at the folder
    assert sorted(p.stem for p in folder.glob("*.code")) == ["k2", "k3", "k4", "k5", "k6"]
    # Past MOST, the least recently used go whatever their age.
    monkeypatch.setattr(compiled, "MOST", 4)
    for n, key in enumerate(["k2", "k3", "k4", "k5", "k6"]):
        os.utime(folder / f"{key}.code", (time.time() - 100 + n, time.time() - 100 + n))
    second.put("k7", code, "k7")
    assert sorted(p.stem for p in folder.glob("*.code")) == ["k5", "k6", "k7"]


def test_the_environments_part_of_a_kept_key_is_worked_out_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dashsite.render import environment as environment_module

    environment = create_environment(code_folder=tmp_path)
    calls = []
    real = environment_module.DashsiteEnvironment._kept_name

    def counting(self, modules):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(self, modules)

    monkeypatch.setattr(environment_module.DashsiteEnvironment, "_kept_name", counting)
    keys = {environment._kept_key((f"<p>{n}</p>", False, False)) for n in range(5)}
    assert len(keys) == 5 and None not in keys and len(calls) == 1
    environment.filters["shout"] = _loud  # another set-up: worked out again, other keys
    assert environment._kept_key(("<p>0</p>", False, False)) not in keys
    assert len(calls) == 2
