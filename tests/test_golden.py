"""Golden test: build a fixed project and compare it with a committed tree.

Regenerate on purpose with ``DASHSITE_REGENERATE=1 pytest tests/test_golden.py``
and review the diff like any other change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

from projects import T0, build, fixed_clock

HERE = Path(__file__).parent / "golden"


INPUTS_KEY = re.compile(rb'<meta name="dashsite-inputs" content="[0-9a-f]+">')
"""A page's key of what drew it: it hashes dashsite's and Jinja2's releases."""


def normalised(path: Path) -> bytes:
    """File bytes, with the collectors' measured durations zeroed (data.json, the log) and
    a page's key of its inputs blanked (it names library releases)."""
    if path.suffix == ".html":
        return INPUTS_KEY.sub(b'<meta name="dashsite-inputs" content="">', path.read_bytes())
    if path.suffix == ".jsonl":
        lines = []
        for line in path.read_text().splitlines():
            record = json.loads(line)
            record["durations"] = dict.fromkeys(record.get("durations", {}), 0)
            lines.append(json.dumps(record, ensure_ascii=False))
        return ("\n".join(lines) + "\n").encode()
    if path.name != "data.json":
        return path.read_bytes()
    document = json.loads(path.read_text())
    for entry in document.get("collectors", {}).values():
        entry["duration"] = 0
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): normalised(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_golden_site(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(HERE / "project", project)
    build(project, version_id="v1", clock=fixed_clock(T0))
    # The status board's data moves (a version, v2); the notes' does not (a check of v1).
    (project / "dashboards" / "status-board" / "requests.txt").write_text("1250")
    build(project, version_id="v2", clock=fixed_clock(T0 + timedelta(hours=1)))
    actual = snapshot(project / "site")
    expected_dir = HERE / "expected"
    if os.environ.get("DASHSITE_REGENERATE"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        for name, data in actual.items():
            (expected_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / name).write_bytes(data)
    expected = snapshot(expected_dir)
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name].decode() == expected[name].decode(), name
