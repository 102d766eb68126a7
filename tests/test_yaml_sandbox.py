"""A *.monitor.yml file is data: its template, callables, aliases and env reach no code
and no secret (issue 22, B6)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dashsite.kstlib.monitor_files import load_monitoring_config
from projects import cli, write_project

from htmltree import parse

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
HELPER = """
def checks():
    return "fine"

def _hidden():
    return "hidden"
"""


def yaml_project(root: Path, text: str, config: str | None = None) -> Path:
    write_project(root, {"fine": {"template.html": "<p id='fine'>fine</p>"}}, config)
    folder = root / "dashboards"
    (folder / "svc.monitor.yml").write_text(text)
    (folder / "sandbox_checks.py").write_text(HELPER)
    return root


def svc_lines(done) -> list[str]:
    return [line for line in done.stderr.splitlines()
            if "svc" in line and not line.startswith("[")]  # (not the progress count)


def assert_fails_alone(root: Path, done, *expected: str) -> None:
    lines = svc_lines(done)
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("dashboards/svc.monitor.yml"), lines
    assert len(lines[0]) < 300, lines
    for part in expected:
        assert part in lines[0], lines
    assert "Traceback" not in done.stderr
    assert (root / "site" / "fine" / "index.html").is_file()  # the others still build


ESCAPES = [
    "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ dashboard.__class__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ StatusLevel.OK.__class__.__base__.__subclasses__() }}",
    "{% for x in range(10 ** 9) %}{% endfor %}",
    "{{ ''.format.__globals__ }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ 'x' * 10**10 }}",  # (filled the memory: 19 GB)
    "{{ [1] * 10**10 }}",
    "{{ 10**10 * 'x' }}",
    "{{ 2 ** (10**10) }}",  # (ran for ever)
    # each within Jinja's own range limit; together hours of CPU
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    # strings of 900 MB, each made by one call (the page's size is checked only as it goes)
    "{{ ('%0900000000d' % 1) | length }}",
    "{{ 'x' | center(900000000) | length }}",
    "{{ 'x'.center(900000000) | length }}",
    "{{ '{:>900000000}'.format(1) | length }}",
    "{{ '%900000000s' | format(1) | length }}",
    "{{ (['x' * 9000000] * 100) | join | length }}",
    "{{ ('x' * 9000000) | replace('', 'yy') | length }}",
    "{{ ('x' * 9000000).replace('x', 'yy') | length }}",
    # … and the ways a review found around those (widths as arguments, joins, +, ints)
    "{{ '{:{w}}'.format(1, w=10**8) | length }}",
    "{{ ('%*d' % (10**8, 1)) | length }}",
    "{{ ('%(a)0100000000d' % {'a': 1}) | length }}",
    "{{ '%*d' | format(10**8, 1) | length }}",
    "{{ ('a' * 100) | list | join('b' * 1000000) | length }}",
    "{{ ('b' * 1000000).join(('a' * 100) | list) | length }}",
    "{{ ('a\\n' * 100) | indent('b' * 1000000) | length }}",
    "{{ ('x' * 6000000) + ('y' * 6000000) }}",
    "{% set n = namespace(v=2 ** 60000) %}{{ (n.v * n.v) > 0 }}",
    "{{ lipsum(20000) | length }}",
    # … and what a second review found (one operation each)
    "{{ (('{0}' * 20).format('x' * 9000000)) | length }}",
    "{{ (('%9999999d' * 20) % ((1,) * 20)) | length }}",
    "{{ ((('x' * 6000000) | safe) + ('y' * 6000000)) | length }}",
    "{{ ('<' * 9000000) | e | length }}",
    "{{ ('\\t' * 9000000).expandtabs(8) | length }}",
    "{% set s = 'x' * 9000000 %}{{ [s, s, s] | reverse | join | length }}",
    "{{ ('x' * 100000) | wordwrap(1, true, 'y' * 1000) | length }}",
    "{{ ([1] * 1000) | tojson('y' * 100000) | length }}",
    "{{ ('f' * 9000000) | int(base=16) }}",
    # a file of the build machine, or of the project, onto a published page
    "{{ MonitorImage(path=IMAGE) }}",
    "{{ MonitorImage(None, IMAGE) }}",
    "{{ MonitorImage(data=PNG, max_bytes=3000000000) }}",
    "{% include 'sandbox_checks.py' %}",
    "{% include 'fine/dashboard.py' %}",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_a_yaml_template_renders_sandboxed(tmp_path: Path, expression: str) -> None:
    expression = expression.replace("MARKER", str(tmp_path / "MARKER"))
    image = tmp_path / "private.png"
    image.write_bytes(PNG)
    expression = expression.replace("IMAGE", repr(str(image))).replace("PNG", "png")
    root = yaml_project(tmp_path, f"template: |\n  <p>x</p>\n  {expression}\ncollectors:\n  v: 1\n"
                        "  png: {type: static, value: 1}\n")
    done = cli(root, "build", "--version-id", "v1")
    assert_fails_alone(root, done)
    assert not (tmp_path / "MARKER").exists()


def test_a_yaml_template_still_renders_what_it_should(tmp_path: Path) -> None:
    root = yaml_project(tmp_path, """\
template: |
  <p id="v">{{ v | upper }}</p><ul>{% for k, x in items.items() %}<li>{{ k }}={{ x }}</li>{% endfor %}</ul>
  <p id="n">{{ range(3) | list | length }} {{ dashboard.title }}</p>
  {{ StatusCell("UP", StatusLevel.OK) | render }}
collectors:
  v: abc
  items: {type: static, value: {a: 1, b: 2}}
""")
    done = cli(root, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr
    page = parse((root / "site" / "svc" / "index.html").read_text())
    assert page.find("p", id="v").text() == "ABC"
    body = page.find("div", class_="dashboard-body")
    assert [li.text() for li in body.find_all("li")] == ["a=1", "b=2"]
    assert page.find("p", id="n").text() == "3 Svc"
    assert page.find("span", class_="status-ok") is not None


def test_ordinary_numbers_and_formats_still_render_in_a_yaml_template(tmp_path: Path) -> None:
    """A large number formatted is data, not a width: '{:,} requests'.format(123456789)
    was refused as "a format width over 10,000,000 characters"."""
    root = yaml_project(tmp_path, """\
template: |
  <p id="v">{{ '{:,} requests'.format(n) }}|{{ '{} bytes'.format(52428800) }}|{{ '%d rows (*: est.)' % n }}|{{ '{:>6}|{:05.2f}'.format('a', 3.14159) }}|{{ ['a', 'b'] | join(', ') }}|{{ 'ab' + 'cd' }}</p>
collectors:
  n: 123456789
""")
    done = cli(root, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr
    assert parse((root / "site" / "svc" / "index.html").read_text()).find("p", id="v").text() == (
        "123,456,789 requests|52428800 bytes|123456789 rows (*: est.)|     a|03.14|a, b|abcd")


def test_the_library_service_of_a_yaml_file_is_sandboxed(tmp_path: Path) -> None:
    path = tmp_path / "svc.monitor.yml"
    path.write_text("template: '{{ cycler.__init__.__globals__ }}'\n")
    service = load_monitoring_config(path).to_service()
    with pytest.raises(Exception, match="unsafe"):
        service.render({})


CALLABLES = [
    ("posix", "abort"),
    ("faulthandler", "_sigsegv"),
    ("os", "abort"),
    ("nt", "abort"),
    ("signal", "raise_signal"),
    ("ctypes", "string_at"),
    ("builtins", "exit"),
    ("sys", "exit"),
    ("threading", "_shutdown"),
    ("multiprocessing", "current_process"),
    ("pdb", "set_trace"),
    ("code", "interact"),
    ("sandbox_checks", "_hidden"),
    ("sandbox_checks._x", "checks"),
    ("dashsite.cli", "entry"),
]


@pytest.fixture(scope="module")
def callables_built(tmp_path_factory: pytest.TempPathFactory):
    """One build of a dashboard per callable, in a real process: a kill must not take pytest."""
    root = yaml_project(tmp_path_factory.mktemp("callables"), "template: '<p>x</p>'\n")
    for number, (module, function) in enumerate(CALLABLES):
        (root / "dashboards" / f"c{number:02d}.monitor.yml").write_text(
            f"template: '{{{{ c }}}}'\ncollectors:\n"
            f"  c: {{type: callable, module: {module}, function: {function}}}\n")
    return root, cli(root, "build", "--version-id", "v1", process=True)


@pytest.mark.parametrize("number", range(len(CALLABLES)),
                         ids=[f"{module}-{function}" for module, function in CALLABLES])
def test_a_yaml_callable_cannot_reach_the_platform(callables_built, number: int) -> None:
    root, done = callables_built
    name = f"dashboards/c{number:02d}.monitor.yml"
    lines = [line for line in done.stderr.splitlines() if name in line]
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and lines[0].startswith(name) and len(lines[0]) < 300, lines
    assert "collector 'c'" in lines[0], lines
    assert "blocked for safety" in lines[0] or "private" in lines[0], lines
    assert "Traceback" not in done.stderr
    assert (root / "site" / "fine" / "index.html").is_file()  # the others still build


def test_a_yaml_callable_of_ones_own_module_runs(tmp_path: Path) -> None:
    root = yaml_project(tmp_path, "template: '<p id=\"c\">{{ c }}</p>'\ncollectors:\n"
                                  "  c: {type: callable, module: sandbox_checks, function: checks}\n")
    done = cli(root, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr
    assert parse((root / "site" / "svc" / "index.html").read_text()).find(
        "p", id="c").text() == "fine"


LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


@pytest.mark.parametrize("bomb", [
    f"{LAUGHS}\ntemplate: '{{{{ i }}}}'\ncollectors:\n  i: {{type: static, value: *i}}\n",
    f"{LAUGHS}\ntemplate: x\nunused: *i\n",
    f"{LAUGHS}\ntemplate: '{{{{ i }}}}'\ncollectors:\n  i: *i\n",
    "template: x\ncollectors:\n  a: &a [1, *a]\n",
    "template: x\ncollectors:\n  a: &a {k: *a}\n",
], ids=["billion-laughs-static", "billion-laughs-unused", "billion-laughs", "recursive-list", "recursive-map"])
def test_a_yaml_alias_bomb_fails_its_file_fast(tmp_path: Path, bomb: str) -> None:
    root = yaml_project(tmp_path, bomb)
    done = cli(root, "build", "--version-id", "v1", timeout=60)
    assert_fails_alone(root, done, "refused")


@pytest.mark.parametrize(("text", "said"), [
    ("template: x\ncollectors:\n  v: " + "[" * 1000 + "]" * 1000 + "\n",
     "nested too deeply to read"),
    ("template: x\ncollectors:\n  v: {type: callable, module: sandbox_checks, function: 5}\n",
     "'module' and 'function' must be names, not str and int"),
    ("template: x\ncollectors:\n  v: {type: callable, module: [os], function: f}\n",
     "'module' and 'function' must be names, not list and str"),
], ids=["deep", "function-number", "module-list"])
def test_a_yaml_file_of_the_wrong_shape_fails_alone(tmp_path: Path, text: str, said: str) -> None:
    # These stopped the whole build with an internal error (exit 70).
    root = yaml_project(tmp_path, text)
    assert_fails_alone(root, cli(root, "build", "--version-id", "v1"), said)


def test_a_yaml_value_that_cannot_be_stored_names_the_yaml_file(tmp_path: Path) -> None:
    # It named dashsite's own source (kstlib/monitor_files.py:130), where the collector
    # of a YAML entry is made.
    root = yaml_project(tmp_path, "template: x\ncollectors: {v: !!binary aGVsbG8=}\n")
    done = cli(root, "build", "--version-id", "v1")
    assert done.returncode == 1
    (line,) = [line for line in done.stderr.splitlines() if "cannot be stored" in line]
    assert line.startswith(
        "dashboards/svc.monitor.yml: collector 'v' returned a value that cannot be stored")


def test_aliases_that_expand_a_little_are_fine(tmp_path: Path) -> None:
    root = yaml_project(tmp_path, "defaults: &d {type: static, value: {unit: ms}}\ntemplate: '<p id=\"u\">{{ a.unit }}"
                                  "{{ b.unit }}</p>'\ncollectors:\n  a: *d\n  b: *d\n")
    done = cli(root, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr
    assert parse((root / "site" / "svc" / "index.html").read_text()).find(
        "p", id="u").text() == "msms"


@pytest.mark.parametrize(("variable", "value"), [
    ("API_TOKEN", "s3cr3t-value"), ("aws_secret_access_key", "s3cr3t-value"),
    ("DB_Password", "s3cr3t-value"), ("GITHUB_PAT_KEY", "s3cr3t-value"),
    ("SMTP_PASSWD", "s3cr3t-value"),
    # names the first list missed (a hostile try published them all)
    ("SMTP_PASS", "s3cr3t-value"), ("GITHUB_PAT", "s3cr3t-value"), ("SENTRY_DSN", "s3cr3t-value"),
    ("DATABASE_URL", "postgres://app:s3cr3t-value@db.internal/app"),
])
def test_an_env_collector_of_a_secret_needs_allowing(tmp_path: Path, variable: str, value: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    text = (f"template: '<p id=\"v\">{{{{ v }}}}</p>'\ncollectors:\n"
            f"  v: {{type: env, env_var: {variable}}}\n")
    monkeypatch.setenv(variable, value)  # the build runs in this process
    root = yaml_project(tmp_path, text)
    done = cli(root, "build", "--version-id", "v1")
    assert_fails_alone(root, done, f"'{variable}' looks like a secret",
                       f'allow_secret_env = ["{variable}"]')
    assert not any("s3cr3t-value" in p.read_text(errors="replace")
                   for p in (root / "site").rglob("*") if p.is_file())
    (root / "dashsite.toml").write_text(f'allow_secret_env = ["{variable}"]\n')
    done = cli(root, "build", "--version-id", "v2")
    assert done.returncode == 0, done.stderr
    assert parse((root / "site" / "svc" / "index.html").read_text()).find(
        "p", id="v").text() == value


def test_an_env_collector_of_a_plain_variable_needs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = yaml_project(tmp_path, "template: '<p id=\"v\">{{ v }}</p>'\ncollectors:\n"
                                  "  v: {type: env, env_var: DEPLOY_REGION}\n"
                                  "  p: {type: env, env_var: PATH}\n"
                                  "  c: {type: env, env_var: COMPASS_REGION}\n"
                                  "  f: {type: env, env_var: SSL_CERT_FILE}\n"
                                  "  s: {type: env, env_var: SESSION_TIMEOUT}\n"
                                  "  u: {type: env, env_var: STATUS_URL}\n")
    monkeypatch.setenv("DEPLOY_REGION", "eu-west-1")
    monkeypatch.setenv("STATUS_URL", "https://status.example.com/")  # no password in it
    done = cli(root, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr


def test_allow_secret_env_must_be_a_list_of_names(tmp_path: Path) -> None:
    root = yaml_project(tmp_path, "template: x\n", config='allow_secret_env = "API_TOKEN"\n')
    done = cli(root, "build")
    assert done.returncode != 0
    assert "dashsite.toml: 'allow_secret_env' must be a list of environment variable names" \
        in done.stderr


# -- a YAML callable runs in a worker process: what kills it fails one collector --------------

ENDINGS = """
import ctypes, os, pathlib, time
from dashsite import StatusCell, StatusLevel

def aborts():
    os.abort()

def exits():
    os._exit(3)

def segfaults():
    ctypes.string_at(0)

def unstorable():
    return (n for n in range(3))

def hangs():
    pathlib.Path(__file__).with_name("hung.pid").write_text(str(os.getpid()))
    time.sleep(3600)

def healthy():
    return StatusCell(f"UP {os.getpid()}", StatusLevel.OK)
"""
BUILD_PID = """
import os
from dashsite import collector

@collector
def pid():
    return os.getpid()
"""


def endings_project(root: Path, *functions: str, config: str | None = None) -> Path:
    write_project(root, {"fine": {"dashboard.py": BUILD_PID,
                                  "template.html": "<p id='pid'>{{ pid }}</p>"}}, config)
    (root / "dashboards" / "endings.py").write_text(ENDINGS)
    for function in functions:
        (root / "dashboards" / f"{function}.monitor.yml").write_text(
            "template: '<p id=\"c\">{{ c | render }}</p>'\ncollectors:\n"
            f"  c: {{type: callable, module: endings, function: {function}}}\n")
    return root


def failed_line(done, function: str) -> str:
    name = f"dashboards/{function}.monitor.yml"
    lines = [line for line in done.stderr.splitlines() if name in line]
    assert len(lines) == 1, (function, done.stderr)
    assert lines[0].startswith(f"{name}: collector 'c' failed: ") and len(lines[0]) < 300, lines
    return lines[0]


@pytest.fixture(scope="module")
def endings_built(tmp_path_factory: pytest.TempPathFactory):
    """One real build with callables that end their process in every way but a hang."""
    root = endings_project(tmp_path_factory.mktemp("endings"),
                           "aborts", "exits", "segfaults", "unstorable", "healthy")
    return root, cli(root, "build", "--version-id", "v1", process=True)


@pytest.mark.parametrize(("function", "expected"), [
    ("aborts", "WorkerLost: the process running endings.aborts was killed by SIGABRT "
               "(os.abort() or a crash in native code)"),
    ("exits", "WorkerLost: the process running endings.exits exited with status 3"),
    ("segfaults", "WorkerLost: the process running endings.segfaults was killed by SIGSEGV"),
    ("unstorable", "TypeError: returned a value that cannot be stored as JSON "
                   "(c: a generator cannot be stored as JSON)"),
])
def test_a_yaml_callable_that_ends_its_process_fails_only_its_collector(
    endings_built, function: str, expected: str
) -> None:
    root, done = endings_built
    assert expected in failed_line(done, function)
    assert done.returncode == 0, done.stderr  # failed collectors: exit 0 unless --strict
    assert "Traceback" not in done.stderr
    page = parse((root / "site" / function / "index.html").read_text())
    assert "failed" in page.find("div", class_="collector-error").text()
    manifest = json.loads((root / "site" / "manifest.json").read_text())
    status = {d["slug"]: d["status"] for d in manifest["dashboards"]}
    assert status[function] == "error"
    assert status["healthy"] == status["fine"] == "ok"


def test_the_others_build_and_the_callable_ran_in_another_process(endings_built) -> None:
    root, done = endings_built
    build_pid = parse((root / "site" / "fine" / "index.html").read_text()).find(
        "p", id="pid").text()
    healthy = parse((root / "site" / "healthy" / "index.html").read_text()).find("p", id="c")
    assert healthy.find("span", class_="status-ok").text().startswith("UP ")
    assert healthy.text().split()[1] != build_pid
    assert not [line for line in done.stderr.splitlines() if "healthy.monitor.yml" in line]


@pytest.mark.slow  # a collector that hangs until its timeout
def test_a_yaml_callable_that_hangs_is_stopped_at_its_timeout(tmp_path: Path) -> None:
    root = endings_project(tmp_path, "hangs", "healthy", config="timeout = 2\n")
    done = cli(root, "build", "--version-id", "v1", process=True)
    assert "TimeoutError: no result within 2 s (its process was stopped)" in failed_line(
        done, "hangs")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert (root / "site" / "healthy" / "index.html").is_file()
    assert (root / "site" / "fine" / "index.html").is_file()
    hung = int((root / "dashboards" / "hung.pid").read_text())
    with pytest.raises(ProcessLookupError):  # killed, not left sleeping
        os.kill(hung, 0)
    strict = cli(root, "build", "--version-id", "v2", "--strict", process=True)
    assert strict.returncode == 1 and "Traceback" not in strict.stderr


def test_a_module_that_ends_its_process_at_import_fails_its_file(tmp_path: Path) -> None:
    root = endings_project(tmp_path, "healthy")
    (root / "dashboards" / "dies.py").write_text("import os\nos._exit(7)\n")
    (root / "dashboards" / "dies.monitor.yml").write_text(
        "template: x\ncollectors:\n  c: {type: callable, module: dies, function: f}\n")
    done = cli(root, "build", "--version-id", "v1")
    lines = [line for line in done.stderr.splitlines() if "dies" in line]
    assert lines == ["dashboards/dies.monitor.yml:3: collector 'c': importing 'dies' ended its "
                     "process: it exited with status 7 (os._exit()?) — the module must import "
                     "without ending its process"], done.stderr
    assert done.returncode == 1
    assert (root / "site" / "healthy" / "index.html").is_file()


def test_quick_callables_share_one_worker_process(tmp_path: Path) -> None:
    from dashsite.collection.isolated import POOL, IsolatedCall

    (tmp_path / "endings.py").write_text(ENDINGS)
    call = IsolatedCall("endings", "healthy", str(tmp_path))
    started = POOL.started
    labels = {call().label for _ in range(5)}
    assert len(labels) == 1 and labels != {f"UP {os.getpid()}"}
    assert POOL.started == started + 1  # one worker, reused
    with pytest.raises(Exception, match="exited with status 3"):
        IsolatedCall("endings", "exits", str(tmp_path))()
    assert call().label not in labels  # a new worker took over
    assert POOL.started == started + 2
    POOL.release()
