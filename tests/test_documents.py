"""A version's data.json is one typed document, read back as strictly as it is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashsite.store.documents import VersionDocument
from dashsite.store.version_store import VersionStore

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "expected"


def test_every_golden_and_fixture_data_file_round_trips_in_order():
    files = [*GOLDEN.rglob("data.json"), *(ROOT / "tests" / "fixtures").rglob("data.json")]
    assert len(files) >= 4
    for path in files:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text)
        document = VersionDocument.from_json(raw, raw["dashboard"])
        back = document.to_json()
        assert back == raw and list(back) == list(raw), path  # same content, same key order


@pytest.mark.parametrize(("change", "words"), [
    ({"dashboard": "other"}, "belongs to 'other'"),
    ({"version": "../x"}, "no usable version id"),
    ({"collected_at": "yesterday"}, "Invalid isoformat"),
    ({"status": 3}, "status is not a level name"),
    ({"status": "fine"}, "fine"),
    ({"data": []}, "data is not an object"),
    ({"errors": {"a": 1}}, "errors must map names to messages"),
    ({"collectors": {"a": 1}}, "collectors must map names to objects"),
    ({"seq": -1}, "seq is not a count"),
    ({"schema": 2}, "schema 2"),
])
def test_a_damaged_data_file_is_refused_as_a_whole(change, words):
    raw = json.loads(next(GOLDEN.rglob("data.json")).read_text())
    raw.update(change)
    with pytest.raises(ValueError, match=words):
        VersionDocument.from_json(raw, "notes" if "dashboard" in change else raw["dashboard"])


def test_the_store_is_the_one_reader_and_says_missing_or_damaged(tmp_path):
    site = tmp_path / "site"
    folder = site / "api" / "2026-11-27" / "v1"
    folder.mkdir(parents=True)
    store = VersionStore(site)
    with pytest.raises(OSError):
        store.load_version("api", "api/2026-11-27/v1/data.json")
    (folder / "data.json").write_text("[" * 100_000)
    with pytest.raises(ValueError):
        store.load_version("api", "api/2026-11-27/v1/data.json")
    (folder / "data.json").write_text(json.dumps({
        "schema": 1, "dashboard": "api", "title": "API", "version": "v1",
        "collected_at": "2026-11-27T20:15:00+00:00", "status": "error",
        "data": {"up": 0}, "errors": {"ping": "timed out"}, "collectors": {}, "seq": 4}))
    document = store.load_version("api", "api/2026-11-27/v1/data.json")
    assert (document.status.slug, document.errors, document.seq) == ("error", {"ping": "timed out"}, 4)


def test_no_module_outside_the_store_opens_a_data_file():
    offenders = []
    for path in (ROOT / "src" / "dashsite").rglob("*.py"):
        if path.parent.name == "store":
            continue
        text = path.read_text(encoding="utf-8")
        if ".data_url).read" in text or "DATA_FILE).read" in text:
            offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


def test_every_built_site_publishes_the_schemas_its_files_validate_against():
    import jsonschema

    from dashsite.store.documents import schema_text

    site = GOLDEN  # built by the golden test's project, byte for byte
    manifest_schema = json.loads((site / "schemas" / "manifest.schema.json").read_text())
    data_schema = json.loads((site / "schemas" / "data.schema.json").read_text())
    assert manifest_schema == json.loads(schema_text("manifest"))
    assert data_schema == json.loads(schema_text("data"))
    jsonschema.validate(json.loads((site / "manifest.json").read_text()), manifest_schema)
    for path in site.rglob("data.json"):
        jsonschema.validate(json.loads(path.read_text()), data_schema)
