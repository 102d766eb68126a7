"""A dask scheduler address is checked, and a port that is not a scheduler fails in one line
within a deadline (issue 22, C9)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dashsite.collection.cluster import quiet_logs
from dashsite.core import scheduler_address
from dashsite.core.scheduler_address import NotAScheduler, address_problem, probe
from projects import cli, simple, write_project

BAD = ["bogus://x", "tcp://[::1", "tcp://host", "tcp://:8786", "http://host:8786",
       "host:8786", "tcp://host:notaport", "tcp://host:8786/path", "tcp://ho st:1"]


@pytest.mark.parametrize("address", BAD)
def test_a_bad_scheduler_option_is_a_usage_error(tmp_path: Path, address: str) -> None:
    write_project(tmp_path, {"svc": simple()})
    done = cli(tmp_path, "build", "--scheduler", address)
    assert done.returncode == 2, done.stderr
    assert "argument --scheduler: must look like \"tcp://host:8786\"" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("address", BAD)
def test_a_bad_scheduler_setting_names_the_file_and_key(tmp_path: Path, address: str) -> None:
    write_project(tmp_path, {"svc": simple()},
                  config=f'executor = "dask"\nscheduler = "{address}"\n')
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("dashsite.toml: 'scheduler' must look like \"tcp://host:8786\"")


@pytest.mark.parametrize(("setting", "option"), [
    ('executor = "dask"\nscheduler = "bogus://x"\n', ["--scheduler", "bogus://x"]),
    ('executor = "processes"\n', ["--executor", "processes"]),
])
@pytest.mark.parametrize("settings_file", ["dashsite.toml", "pyproject.toml"])
def test_a_bad_value_exits_2_on_the_command_line_and_1_in_a_settings_file(
    tmp_path: Path, setting: str, option: list[str], settings_file: str
) -> None:
    """The rule (docs/reference/errors.md): the command line could not be parsed is a usage
    error (2); a settings file to fix is bad input (1), the scheduler's address as any key."""
    write_project(tmp_path, {"svc": simple()})
    table = "[tool.dashsite]\n" if settings_file == "pyproject.toml" else ""
    (tmp_path / settings_file).write_text(table + setting)
    in_file = cli(tmp_path, "build")
    assert in_file.returncode == 1, in_file.stderr
    (line,) = in_file.stderr.strip().splitlines()
    shown = f"{settings_file}{' [tool.dashsite]' if table else ''}"
    assert line.startswith(f"{shown}: '{option[0][2:]}' "), line
    (tmp_path / settings_file).unlink()
    on_line = cli(tmp_path, "build", *option)
    assert on_line.returncode == 2, on_line.stderr
    assert f"argument {option[0]}: " in on_line.stderr
    for done in (in_file, on_line):
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tcp://[::1]:8786",
                                     "tls://scheduler.example:8786", "tcp://sched-1:1"])
def test_good_addresses_pass(address: str) -> None:
    assert address_problem(address) is None


class _Quiet(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _talker(reply: bytes) -> Iterator[str]:
    """A TCP server that sends ``reply`` to every connection, then closes it."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    listener.close()


@pytest.fixture
def banner_server() -> Iterator[str]:
    yield from _talker(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def closing_server() -> Iterator[str]:
    yield from _talker(b"")


def test_an_http_server_is_not_a_scheduler_and_the_build_says_so(
        tmp_path: Path, http_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler_address, "PROBE_TIMEOUT", 1.0)
    write_project(tmp_path, {"svc": simple()},
                  config=f'executor = "dask"\nscheduler = "{http_server}"\n')
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    lines = [line for line in done.stderr.strip().splitlines() if "scheduler" in line]
    assert lines == [f"dashsite.toml: 'scheduler': {http_server} did not answer as a dask "
                     "scheduler within 1 s — check the address and port `dask scheduler` "
                     "printed (tcp://host:8786)"], lines


def test_a_server_that_talks_first_is_not_a_scheduler(banner_server: str) -> None:
    with pytest.raises(NotAScheduler, match="answers, but not as a dask scheduler"):
        probe(banner_server, timeout=5)


def test_a_server_that_hangs_up_is_not_a_scheduler(closing_server: str) -> None:
    with pytest.raises(NotAScheduler, match="closed the connection"):
        probe(closing_server, timeout=5)


def test_a_real_scheduler_passes_the_probe() -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        probe(cluster.scheduler_address, timeout=10)


def test_distributed_logs_stay_off_the_terminal() -> None:
    import io

    import distributed  # noqa: F401 - it installs its own stderr handler

    terminal = io.StringIO()
    handler = logging.StreamHandler(terminal)  # stands for distributed's stderr handler
    logger = logging.getLogger("distributed")
    logger.addHandler(handler)
    try:
        before = logger.handlers[:]
        with quiet_logs():
            try:
                raise OSError("connection lost\nsecond line")
            except OSError:
                logging.getLogger("distributed.client").exception("Failed to reconnect")
            logging.getLogger("distributed.comm.tcp").error("a\nmulti-line\nrecord")
            logging.getLogger("tornado.application").error("tornado says")
        assert terminal.getvalue() == ""
        assert logger.handlers == before
        logging.getLogger("distributed.client").error("after")  # handlers are back
        assert "after" in terminal.getvalue()
    finally:
        logger.removeHandler(handler)
