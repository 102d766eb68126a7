"""Publishing to a real S3-compatible server (moto's server mode) over HTTP with boto3."""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from moto.server import ThreadedMotoServer

from dashsite.core.errors import PublishError
from dashsite.publish import S3Target, parse_target
from dashsite.publish.plan import IMMUTABLE, REVALIDATE
from dashsite.publish.s3 import INDEX_FILE, make_client, publish_s3, pull_s3
from dashsite.store.manifest import Manifest
from projects import (
    T0,
    build,
    cli,
    fixed_clock,
    seed_log,
    simple,
    vdir,
    vrel,
    write_project,
)

from htmltree import parse

pytestmark = pytest.mark.slow  # a real S3-compatible server

DAY = T0.date().isoformat()  # builds here run at T0: versions are filed under this day

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def bucket(endpoint: str) -> str:
    name = f"dash-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


def s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint)


def keys(endpoint: str, bucket: str) -> list[str]:
    listed = s3(endpoint).list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def read(endpoint: str, bucket: str, key: str) -> bytes:
    return s3(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()


def s3_cli(root: Path, endpoint: str, *args: str, **kwargs: Any) -> Any:
    return cli(root, *args, "--endpoint-url", endpoint, **kwargs)


def test_target_parsing() -> None:
    assert parse_target("s3://my-bucket/a/b/") == S3Target("my-bucket", "a/b")
    assert parse_target("s3://my-bucket") == S3Target("my-bucket", "")
    for bad in ("ftp://x", "s3://UPPER/x", "s3://b/../x", "gh-page"):
        with pytest.raises(PublishError):
            parse_target(bad)


def test_publish_uploads_with_headers_then_nothing_when_unchanged(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    write_project(tmp_path, {"alpha": simple()})
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    client = make_client(endpoint)
    target = S3Target(bucket, "dash")
    first = publish_s3(tmp_path / "site", target, client=client)
    local = sorted(p.relative_to(tmp_path / "site").as_posix()
                   for p in (tmp_path / "site").rglob("*") if p.is_file())
    assert keys(endpoint, bucket) == sorted([f"dash/{rel}" for rel in local]
                                            + [f"dash/{INDEX_FILE}"])
    assert len(first.uploaded) == len(local)

    def head(key: str) -> dict[str, Any]:
        return s3(endpoint).head_object(Bucket=bucket, Key=f"dash/{key}")

    assert head(f"alpha/{DAY}/v1/index.html")["ContentType"] == "text/html; charset=utf-8"
    assert head(f"alpha/{DAY}/v1/index.html")["CacheControl"] == IMMUTABLE
    assert head(f"alpha/{DAY}/v1/data.json")["ContentType"] == "application/json"
    css = next(rel for rel in local if rel.startswith("assets/") and rel.endswith(".css"))
    assert head(css)["ContentType"] == "text/css; charset=utf-8"
    assert head(css)["CacheControl"] == IMMUTABLE
    for page in ("index.html", "manifest.json", "alpha/index.html", "alpha/history/index.html"):
        assert head(page)["CacheControl"] == REVALIDATE, page
    assert read(endpoint, bucket, "dash/manifest.json") == \
        (tmp_path / "site" / "manifest.json").read_bytes()

    again = publish_s3(tmp_path / "site", target, client=client)
    # Only the part that may change is compared: the published version is known by the manifest.
    assert again.uploaded == [] and again.deleted == []
    assert again.unchanged == len([rel for rel in local if f"{DAY}/v1/" not in rel])


def test_upload_order_never_links_to_missing_objects(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    write_project(tmp_path, {"alpha": simple(), "beta": simple()})
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "db.md").write_text(
        '+++\ntitle = "DB"\nstart = 2026-11-27T20:00:00Z\n+++\nDown.\n')
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    client = make_client(endpoint)
    order: list[str] = []
    client.meta.events.register("provide-client-params.s3.PutObject",
                                lambda params, **_: order.append(params["Key"]))
    publish_s3(tmp_path / "site", S3Target(bucket, ""), client=client)
    position = {key: index for index, key in enumerate(order)}
    assert order[-3:] == ["index.html", "manifest.json", INDEX_FILE]
    for slug in ("alpha", "beta"):
        assert position[f"{slug}/{DAY}/v1/index.html"] < position[f"{slug}/history/index.html"]
        assert position[f"{slug}/history/index.html"] < position[f"{slug}/index.html"]
        assert position[f"{slug}/index.html"] < position["index.html"]
        # The pages and feeds that link to a dashboard's history rows and latest page (the
        # incident history, its feed) go up after them, not with the badges.
        for linking in ("incidents/index.html", f"{slug}/feed.html", f"{slug}/feed.xml",
                        "feed.html", "feed.xml"):
            assert position[f"{slug}/index.html"] < position[linking], linking
        # a declared incident's page goes first: the latest pages link to it
        assert position["incidents/db.html"] < position[f"{slug}/index.html"]


def test_retention_deletes_only_pruned_versions_and_nothing_outside_the_prefix(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    for key in ("dash-evil/alpha/v1/index.html", "dashboard/alpha/v1/index.html",
                "other/keep.txt", "dash.txt"):
        s3(endpoint).put_object(Bucket=bucket, Key=key, Body=b"x")
    write_project(tmp_path, {"alpha": simple()}, config='unchanged = "version"\n')
    target = S3Target(bucket, "dash")
    for n in (1, 2, 3):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0))
    publish_s3(tmp_path / "site", target, client=make_client(endpoint))
    (tmp_path / "dashsite.toml").write_text("retention = 2\n")
    build(tmp_path, version_id="v4", clock=fixed_clock(T0))
    client = make_client(endpoint)
    calls: list[str] = []
    client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    report = publish_s3(tmp_path / "site", target, client=client)
    assert "ListObjectsV2" not in calls  # retention does not cost a listing of the prefix
    remaining = keys(endpoint, bucket)
    day = f"dash/alpha/{DAY}"
    # The pruned versions go. The month's status file the prune dropped is computed
    # again from the pruned log in the same build (the history pages read it), so it
    # stays, not deleted: the mirror check below holds it to the local one.
    assert sorted(report.deleted) == [f"{day}/v1/data.json", f"{day}/v1/index.html",
                                      f"{day}/v2/data.json", f"{day}/v2/index.html"]
    assert (tmp_path / "site" / "alpha" / "log" / "2026-11" / "status.json").is_file()
    assert not any(k.startswith((f"{day}/v1/", f"{day}/v2/")) for k in remaining)
    assert {f"{day}/v3/index.html", f"{day}/v4/index.html"} <= set(remaining)
    for outside in ("dash-evil/alpha/v1/index.html", "dashboard/alpha/v1/index.html",
                    "other/keep.txt", "dash.txt"):
        assert outside in remaining
    inside = [k for k in remaining if k.startswith("dash/")]
    local = sorted(f"dash/{p.relative_to(tmp_path / 'site').as_posix()}"
                   for p in (tmp_path / "site").rglob("*")
                   if p.is_file() and ".dashsite" not in p.parts and not p.name.startswith("."))
    assert sorted(inside) == sorted([*local, f"dash/{INDEX_FILE}"])  # mirrored, pages rewritten
    for relative in local:
        assert read(endpoint, bucket, relative) == (tmp_path / "site" / relative[5:]).read_bytes()


def test_retention_that_keeps_a_months_count_still_deletes_what_it_pruned(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    """One version in, one pruned, in the same month: the month's count is the same on both
    sides, and the pruned versions stayed in the bucket for good."""
    write_project(tmp_path, {"alpha": simple()}, config='unchanged = "version"\n')
    target = S3Target(bucket, "dash")
    for n in (1, 2, 3):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0))
    publish_s3(tmp_path / "site", target, client=make_client(endpoint))
    (tmp_path / "dashsite.toml").write_text("retention = 3\n")
    day = f"dash/alpha/{DAY}"
    for n, gone in ((4, "v1"), (5, "v2")):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0))
        report = publish_s3(tmp_path / "site", target, client=make_client(endpoint))
        assert sorted(report.deleted) == [f"{day}/{gone}/data.json", f"{day}/{gone}/index.html"]
        remaining = keys(endpoint, bucket)
        assert not any(k.startswith(f"{day}/{gone}/") for k in remaining)
        assert f"{day}/v{n}/index.html" in remaining
    assert json.loads(read(endpoint, bucket, "dash/manifest.json"))["dashboards"][0][
        "pruned"] == 2


def test_retention_one_publishes_after_every_build(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    """Each build prunes the version the target holds as its latest: the target's history
    is this site's with that version pruned, not someone else's (it was refused)."""
    write_project(tmp_path, {"alpha": simple()}, config="retention = 1\n")
    target = S3Target(bucket, "dash")
    day = f"dash/alpha/{DAY}"
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    publish_s3(tmp_path / "site", target, client=make_client(endpoint))
    for n in (2, 3):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=n)))
        report = publish_s3(tmp_path / "site", target, client=make_client(endpoint))
        assert f"{day}/v{n - 1}/index.html" in report.deleted
        remaining = keys(endpoint, bucket)
        assert f"{day}/v{n}/index.html" in remaining
        assert not any(k.startswith(f"{day}/v{n - 1}/") for k in remaining)


def test_with_retention_a_history_built_elsewhere_is_still_refused(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    """Two machines build from the same published state, both pruning: the target's latest
    is one this site never had (not one it pruned), so publishing would drop it."""
    write_project(tmp_path / "a", {"alpha": simple()}, config="retention = 2\n")
    target = S3Target(bucket, "dash")
    for n in (1, 2):
        build(tmp_path / "a", version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=n)))
    publish_s3(tmp_path / "a" / "site", target, client=make_client(endpoint))
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    build(tmp_path / "a", version_id="a1", clock=fixed_clock(T0 + timedelta(minutes=3)))
    publish_s3(tmp_path / "a" / "site", target, client=make_client(endpoint))
    for n in (1, 2):  # b prunes as many, and its counts add up like a's
        build(tmp_path / "b", version_id=f"b{n}", clock=fixed_clock(T0 + timedelta(minutes=3 + n)))
    with pytest.raises(Exception, match="holds versions this site does not have"):
        publish_s3(tmp_path / "b" / "site", target, client=make_client(endpoint))
    assert f"dash/alpha/{DAY}/a1/index.html" in keys(endpoint, bucket)


def test_build_publish_pull_build_publish_keeps_history(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    write_project(tmp_path, {"alpha": simple()}, config='unchanged = "version"\n')
    target = f"s3://{bucket}/site"
    assert cli(tmp_path, "build", "--version-id", "ci-1").returncode == 0
    published = s3_cli(tmp_path, endpoint, "publish", target)
    assert published.returncode == 0, published.stderr
    shutil.rmtree(tmp_path / "site")  # a fresh CI checkout
    pulled = s3_cli(tmp_path, endpoint, "pull", target)
    assert pulled.returncode == 0, pulled.stderr
    assert "1 dashboard(s), 1 version(s)" in pulled.stderr
    assert cli(tmp_path, "build", "--version-id", "ci-2").returncode == 0
    again = s3_cli(tmp_path, endpoint, "publish", target)
    assert again.returncode == 0, again.stderr
    manifest = json.loads(read(endpoint, bucket, "site/manifest.json"))
    assert manifest["dashboards"][0]["count"] == 2
    month = manifest["dashboards"][0]["months"][0]
    (shard,) = Manifest.from_json(manifest).dashboards["alpha"].log_paths(month["month"])
    log = read(endpoint, bucket, f"site/{shard}").decode()
    assert [json.loads(line)["id"] for line in log.splitlines()] == ["ci-1", "ci-2"]
    history = parse(read(endpoint, bucket, "site/alpha/history/index.html").decode())
    assert [a.text() for a in history.find("table", class_="history-table").find("tbody").find_all("a")] == ["ci-2", "ci-1"]
    index = parse(read(endpoint, bucket, "site/index.html").decode())
    assert "2 versions" in index.find("li", class_="card").text()
    for version in ("ci-1", "ci-2"):
        assert f"site/{vrel(tmp_path / 'site', 'alpha', version)}/index.html" in keys(
            endpoint, bucket)


def test_publishing_a_fresh_site_over_history_is_refused(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    write_project(tmp_path, {"alpha": simple()})
    target = f"s3://{bucket}"
    cli(tmp_path, "build", "--version-id", "old")
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
    shutil.rmtree(tmp_path / "site")
    cli(tmp_path, "build", "--version-id", "new")
    refused = s3_cli(tmp_path, endpoint, "publish", target)
    assert refused.returncode == 1
    assert (f"s3://{bucket} holds versions this site does not have (alpha: 1 version(s), "
            "the newest old)") in refused.stderr
    assert "run 'dashsite pull' from it and build again" in refused.stderr
    assert ("(if pull refuses too: --force on pull or publish keeps that side's versions)"
            in refused.stderr) and "…" not in refused.stderr
    forced = s3_cli(tmp_path, endpoint, "publish", target, "--force")
    assert forced.returncode == 0
    assert any(k.startswith("alpha/") and k.endswith("/old/index.html")
               for k in keys(endpoint, bucket))  # not deleted, only unlinked


def test_dry_run_uploads_nothing(tmp_path: Path, endpoint: str, bucket: str) -> None:
    write_project(tmp_path, {"alpha": simple()})
    cli(tmp_path, "build", "--version-id", "v1")
    done = s3_cli(tmp_path, endpoint, "publish", f"s3://{bucket}/p", "--dry-run")
    assert done.returncode == 0
    assert "upload p/manifest.json" in done.stdout.splitlines()
    assert done.stdout.splitlines()[-1] == "upload p/manifest.json"
    assert keys(endpoint, bucket) == []


def test_a_server_that_stops_mid_upload(tmp_path: Path, bucket: str, endpoint: str) -> None:
    # A second server on its own port shares moto's in-memory state, so it can be
    # stopped half-way through a publish and started again on the same port.
    flaky = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    flaky.start()
    host, port = flaky.get_host_and_port()
    url = f"http://{host}:{port}"
    write_project(tmp_path, {f"d{n}": simple() for n in range(6)}, config='unchanged = "version"\n')
    build(tmp_path, version_id="v1")
    publish_s3(tmp_path / "site", S3Target(bucket, ""), client=make_client(url))
    build(tmp_path, version_id="v2")
    client = make_client(url)
    puts: list[str] = []

    def stop_after_some(params: dict[str, Any], **_: Any) -> None:
        puts.append(params["Key"])
        if len(puts) == 5:
            flaky.stop()

    client.meta.events.register("provide-client-params.s3.PutObject", stop_after_some)
    with pytest.raises(PublishError, match="publish again"):
        publish_s3(tmp_path / "site", S3Target(bucket, ""), client=client)
    # The published index and manifest still describe v1 only, and v1 is whole.
    manifest = json.loads(read(endpoint, bucket, "manifest.json"))
    assert {d["latest"]["id"] for d in manifest["dashboards"]} == {"v1"}
    present = set(keys(endpoint, bucket))
    for d in manifest["dashboards"]:
        path = d["latest"]["path"]
        assert f"{path}index.html" in present and f"{path}data.json" in present
    index = parse(read(endpoint, bucket, "index.html").decode())
    assert all("1 version" in card.text() for card in index.find_all("li", class_="card"))

    restarted = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    restarted.start()
    try:
        finish = publish_s3(tmp_path / "site", S3Target(bucket, ""), client=make_client(url))
        assert "manifest.json" in finish.uploaded
        assert 0 < len(finish.uploaded) < len(finish.uploaded) + finish.unchanged
        manifest = json.loads(read(endpoint, bucket, "manifest.json"))
        assert [d["latest"]["id"] for d in manifest["dashboards"]] == ["v2"] * 6
        assert all(d["count"] == 2 for d in manifest["dashboards"])
    finally:
        restarted.stop()


def test_clear_errors(tmp_path: Path, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"alpha": simple()})
    cli(tmp_path, "build")
    unknown = cli(tmp_path, "publish", "ftp://somewhere")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == ("dashsite: unknown publish target 'ftp://somewhere' — "
                                      "use s3://bucket/prefix or gh-pages")
    missing = s3_cli(tmp_path, endpoint, "publish", "s3://no-such-bucket-here")
    assert missing.returncode == 1
    assert "bucket 'no-such-bucket-here' does not exist" in missing.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ACCESS")
           and not k.startswith("AWS_SECRET")}
    # A process of its own: boto3's default session here has cached the credentials.
    nocreds = s3_cli(tmp_path, endpoint, "publish", "s3://whatever-bucket", env=env)
    assert nocreds.returncode == 1
    assert "no AWS credentials found" in nocreds.stderr
    assert "Traceback" not in unknown.stderr + missing.stderr + nocreds.stderr


def test_pull_all_skips_folder_markers_and_names_a_missing_object(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    write_project(tmp_path, {"alpha": simple()})
    target = f"s3://{bucket}/site"
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
    s3(endpoint).put_object(Bucket=bucket, Key="site/alpha/", Body=b"")  # a console's folder
    # Objects no site holds: hidden ones, unsafe names, a name under a page's.
    odd = [".git/config", ".dashsite/site.lock", "alpha//double.txt", "alpha/./x.txt",
           "index.html/child"]
    for name in odd:
        s3(endpoint).put_object(Bucket=bucket, Key=f"site/{name}", Body=b"secret")
    shutil.rmtree(tmp_path / "site")
    pulled = s3_cli(tmp_path, endpoint, "pull", target, "--all")
    assert pulled.returncode == 0, pulled.stderr
    assert (vdir(tmp_path / "site", "alpha", "v1") / "index.html").is_file()
    assert f"left out {len(odd)} object(s) a site does not hold" in pulled.stderr, pulled.stderr
    written = [p for p in (tmp_path / "site").rglob("*") if p.is_file()]
    assert not [p for p in written if p.read_bytes() == b"secret"]
    for name in odd:
        s3(endpoint).delete_object(Bucket=bucket, Key=f"site/{name}")
    data_key = next(k for k in keys(endpoint, bucket) if k.endswith("/v1/data.json"))
    s3(endpoint).delete_object(Bucket=bucket, Key=data_key)
    shutil.rmtree(tmp_path / "site")
    missing = s3_cli(tmp_path, endpoint, "pull", target)
    assert missing.returncode == 1
    line = missing.stderr.strip()
    assert "does not exist" not in line and "is missing" in line, line


def test_pull_says_which_pulled_files_cannot_be_read_back(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    """A tampered log line or data.json in the bucket: pull names each, where it went
    silent and a build then said a version intact in the bucket was lost."""
    write_project(tmp_path, {"alpha": simple()}, config='unchanged = "version"\n')
    target = f"s3://{bucket}/site"
    for n in (1, 2):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0))
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
    shard = next(k for k in keys(endpoint, bucket) if k.endswith(".jsonl"))
    lines = read(endpoint, bucket, shard).decode().splitlines()
    lines[0] = lines[0].replace('"status":"ok"', '"status":"fine"')
    s3(endpoint).put_object(Bucket=bucket, Key=shard, Body=("\n".join(lines) + "\n").encode())
    data = next(k for k in keys(endpoint, bucket) if k.endswith("/v2/data.json"))
    s3(endpoint).put_object(Bucket=bucket, Key=data, Body=b"{not json")
    shutil.rmtree(tmp_path / "site")
    pulled = s3_cli(tmp_path, endpoint, "pull", target)
    assert pulled.returncode == 0, pulled.stderr
    said = pulled.stderr
    assert f"{shard[len('site/'):]}: 1 of 2 line(s) are not log records" in said, said
    assert f"{data[len('site/'):]}: cannot be read back" in said, said


def test_publish_deletes_what_the_tiers_thinned_and_nothing_else(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    from datetime import timedelta

    write_project(tmp_path, {"alpha": simple()})
    target = S3Target(bucket, "site")
    client = make_client(endpoint)

    def build_and_publish(name: str, days_ago: int) -> list[str]:
        build(tmp_path, version_id=name, clock=fixed_clock(T0 - timedelta(days=days_ago)))
        return sorted(publish_s3(tmp_path / "site", target, client=client).deleted)

    assert build_and_publish("old", 40) == []
    assert build_and_publish("mid", 39) == []
    # 30 days on: old and mid keep their data, not their pages
    old, mid = "site/alpha/2026-10-18/old", "site/alpha/2026-10-19/mid"
    new, now = "site/alpha/2026-11-17/new", "site/alpha/2026-11-27/now"
    assert build_and_publish("new", 10) == [f"{old}/index.html", f"{mid}/index.html"]
    # 10 more: old and mid keep their log lines only; new loses its page
    assert build_and_publish("now", 0) == [f"{old}/data.json", f"{mid}/data.json",
                                           f"{new}/index.html"]
    present = set(keys(endpoint, bucket))
    assert {f"{now}/index.html", f"{new}/data.json"} <= present
    assert not any(k.startswith((old, mid)) for k in present)
    october = json.loads((tmp_path / "site" / "manifest.json").read_text())["dashboards"][0][
        "earlier"]["url"]  # October is finished: its entry is in the months file
    assert {k for k in present if "/log/" in k} == {
        "site/alpha/log/2026-10/18.jsonl", "site/alpha/log/2026-10/19.jsonl",
        "site/alpha/log/2026-10/status.json", "site/alpha/log/2026-11/status.json",
        "site/alpha/log/digest.json", f"site/{october}",
        "site/alpha/log/2026-11/17.jsonl", "site/alpha/log/2026-11/27.jsonl"}


def test_a_publish_stopped_before_its_deletions_is_finished_by_the_next(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    """Killed at the deletions: the next publish still deletes what the tiers thinned (the
    manifest went up after them no more: it compared equal and nothing was deleted)."""
    from datetime import timedelta

    write_project(tmp_path, {"alpha": simple()})
    target = S3Target(bucket, "site")
    for name, days_ago in (("old", 40), ("mid", 39)):
        build(tmp_path, version_id=name, clock=fixed_clock(T0 - timedelta(days=days_ago)))
        publish_s3(tmp_path / "site", target, client=make_client(endpoint))
    build(tmp_path, version_id="new", clock=fixed_clock(T0 - timedelta(days=10)))
    client = make_client(endpoint)
    uploaded: list[str] = []
    client.meta.events.register("before-parameter-build.s3.PutObject",
                                lambda params, **_: uploaded.append(params["Key"]))

    def killed(**_: Any) -> None:
        raise KeyboardInterrupt  # (as a kill: nothing after it runs)

    client.meta.events.register("before-call.s3.DeleteObjects", killed)
    with pytest.raises(KeyboardInterrupt):
        publish_s3(tmp_path / "site", target, client=client)
    assert "site/manifest.json" not in uploaded  # the deletions come before it
    assert "site/alpha/history/index.html" in uploaded  # after the pages that linked them
    thinned = {"site/alpha/2026-10-18/old/index.html", "site/alpha/2026-10-19/mid/index.html"}
    assert thinned <= set(keys(endpoint, bucket))
    report = publish_s3(tmp_path / "site", target, client=make_client(endpoint))
    assert sorted(report.deleted) == sorted(thinned)
    assert not thinned & set(keys(endpoint, bucket))


def test_pull_brings_the_status_files_so_uptime_survives_a_fresh_checkout(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    from datetime import UTC, datetime, timedelta

    write_project(tmp_path, {"alpha": simple()}, config='expected_every = "1d"\n')
    now = datetime.now(UTC).replace(microsecond=0)
    for n, days in enumerate((3, 2, 1)):
        build(tmp_path, version_id=f"ci-{n}", clock=fixed_clock(now - timedelta(days=days)))
    target = f"s3://{bucket}/site"
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
    status_keys = sorted(k for k in keys(endpoint, bucket) if k.endswith("/status.json"))
    assert status_keys, "the status files are published"
    before = {k: read(endpoint, bucket, k) for k in status_keys}
    shutil.rmtree(tmp_path / "site")  # a fresh CI checkout: only what a build needs comes back
    pulled = s3_cli(tmp_path, endpoint, "pull", target)
    assert pulled.returncode == 0, pulled.stderr
    for key, body in before.items():
        assert (tmp_path / key).read_bytes() == body
    assert cli(tmp_path, "build", "--version-id", "ci-3").returncode == 0
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
    after = json.loads(read(endpoint, bucket, status_keys[0]))
    assert set(json.loads(before[status_keys[0]])["days"]) <= set(after["days"])
    page = parse(read(endpoint, bucket, "site/alpha/index.html").decode())
    cells = [td.text() for td in page.find("table", class_="uptime-table").find_all("td")]
    assert cells[0].startswith("100 %")


def mirrored(site: Path, endpoint: str, bucket: str, prefix: str) -> None:
    """The target holds exactly the site's files, byte for byte (and the index)."""
    local = {p.relative_to(site).as_posix(): p.read_bytes()
             for p in site.rglob("*") if p.is_file() and not p.name.startswith(".")
             and ".dashsite" not in p.parts}
    client = s3(endpoint)
    remote = [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{prefix}/") for item in page.get("Contents", [])]
    assert sorted(remote) == sorted([f"{prefix}/{k}" for k in local] + [f"{prefix}/{INDEX_FILE}"])
    for relative, data in local.items():
        assert read(endpoint, bucket, f"{prefix}/{relative}") == data, relative


def test_a_publish_costs_what_changed_not_the_history(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    from datetime import timedelta

    write_project(tmp_path, {"alpha": simple(), "beta": simple()}, config='unchanged = "version"\n')
    site = tmp_path / "site"
    for n in range(6):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    client = make_client(endpoint)
    target = S3Target(bucket, "p")
    publish_s3(site, target, client=client)  # the first: compares with a listing
    calls: list[str] = []
    puts: list[str] = []
    client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    client.meta.events.register("provide-client-params.s3.PutObject",
                                lambda params, **_: puts.append(params["Key"]))
    build(tmp_path, version_id="v6", clock=fixed_clock(T0 + timedelta(minutes=30)))
    report = publish_s3(site, target, client=client)
    assert "ListObjectsV2" not in calls and calls.count("GetObject") == 2  # manifest, index
    versions = sorted(k for k in puts if f"/{DAY}/" in k)  # p/<slug>/<day>/<id>/<file>
    assert versions == [f"p/{slug}/{DAY}/v6/{name}" for slug in ("alpha", "beta")
                        for name in ("data.json", "index.html")]
    assert puts[-2:] == ["p/manifest.json", f"p/{INDEX_FILE}"]
    assert report.unchanged > 0 and report.deleted == []
    mirrored(site, endpoint, bucket, "p")
    # Nothing new: nothing is sent, not even the index (issue 22, C14).
    puts.clear()
    assert publish_s3(site, target, client=client).uploaded == [] and puts == []
    # An index that is missing or not to be trusted: back to a full comparison, still exact.
    for broken in (None, b"{not json", json.dumps({"schema": 1, "files": {"a": 3}}).encode()):
        if broken is None:
            s3(endpoint).delete_object(Bucket=bucket, Key=f"p/{INDEX_FILE}")
        else:
            s3(endpoint).put_object(Bucket=bucket, Key=f"p/{INDEX_FILE}", Body=broken)
        (site / "alpha" / "index.html").write_text("changed by hand")  # only a listing sees it
        calls.clear()
        publish_s3(site, target, client=client)
        assert "ListObjectsV2" in calls
        mirrored(site, endpoint, bucket, "p")
        build(tmp_path, clock=fixed_clock(T0 + timedelta(minutes=40)))
    # --full forces the comparison even with a good index.
    calls.clear()
    done = s3_cli(tmp_path, endpoint, "publish", f"s3://{bucket}/p", "--full")
    assert done.returncode == 0, done.stderr
    mirrored(site, endpoint, bucket, "p")


def test_retention_dropping_a_whole_month_needs_no_listing(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    from datetime import timedelta

    write_project(tmp_path, {"alpha": simple()})
    site = tmp_path / "site"
    build(tmp_path, version_id="october", clock=fixed_clock(T0 - timedelta(days=30)))
    build(tmp_path, version_id="november", clock=fixed_clock(T0))
    client = make_client(endpoint)
    target = S3Target(bucket, "p")
    publish_s3(site, target, client=client)
    assert "p/alpha/history/2026-10.html" in keys(endpoint, bucket)
    (tmp_path / "dashsite.toml").write_text("retention = 2\n")  # october goes
    build(tmp_path, version_id="later", clock=fixed_clock(T0 + timedelta(minutes=5)))
    calls: list[str] = []
    client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    report = publish_s3(site, target, client=client)
    assert "ListObjectsV2" not in calls
    assert "p/alpha/history/2026-10.html" in report.deleted
    assert not any("2026-10" in k for k in keys(endpoint, bucket))
    mirrored(site, endpoint, bucket, "p")


def test_the_finished_months_travel_with_publish_and_pull(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    from datetime import timedelta

    write_project(tmp_path, {"alpha": simple()}, config='unchanged = "version"\n')
    seed_log(tmp_path, ["alpha"], 420, T0 - timedelta(hours=1), every=24 * 60)  # 14 months
    site = tmp_path / "site"
    build(tmp_path, version_id="b1", clock=fixed_clock(T0))
    target = f"s3://{bucket}/site"
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
    url = json.loads((site / "manifest.json").read_text())["dashboards"][0]["earlier"]["url"]
    assert read(endpoint, bucket, f"site/{url}") == (site / url).read_bytes()
    assert read(endpoint, bucket, "site/alpha/history/months.html") == (
        site / "alpha" / "history" / "months.html").read_bytes()

    shutil.rmtree(site)  # a fresh CI checkout: the pull brings the file the manifest links to
    pulled = s3_cli(tmp_path, endpoint, "pull", target)
    assert pulled.returncode == 0, pulled.stderr
    assert (site / url).is_file() and "1 dashboard(s), 421 version(s)" in pulled.stderr
    client = make_client(endpoint)
    gets: list[str] = []
    client.meta.events.register("provide-client-params.s3.GetObject",
                                lambda params, **_: gets.append(params["Key"]))
    staged, _ = pull_s3(site, S3Target(bucket, "site"), client=client)
    staged.abort()
    assert gets.count(f"site/{url}") == 1  # read to check the manifest, then kept, not fetched again
    build(tmp_path, version_id="b2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    gets.clear()
    publish_s3(site, S3Target(bucket, "site"), client=client)
    # the target's months file is the local one (same name, same bytes): not fetched
    assert gets == ["site/manifest.json", f"site/{INDEX_FILE}"]

    # A month on: the new file goes up before the manifest, the old one is deleted after it.
    build(tmp_path, version_id="b3", clock=fixed_clock(T0 + timedelta(days=31)))
    later = json.loads((site / "manifest.json").read_text())["dashboards"][0]["earlier"]["url"]
    assert later != url
    done = s3_cli(tmp_path, endpoint, "publish", target)
    assert done.returncode == 0, done.stderr
    remote = keys(endpoint, bucket)
    assert f"site/{later}" in remote and f"site/{url}" not in remote
    published = json.loads(read(endpoint, bucket, "site/manifest.json"))
    assert published["dashboards"][0]["earlier"]["url"] == later
    assert published["dashboards"][0]["count"] == 423


def test_pull_asks_only_for_the_data_the_tiers_kept(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    # Daily builds past keep_data: the newest `history` versions reach back to versions
    # that keep only their log line. Pull used to ask for their data.json and fail.
    from datetime import UTC, datetime, timedelta

    write_project(tmp_path, {"alpha": simple()},
                  config='keep_pages = "1d"\nkeep_data = "2d"\nexpected_every = "1d"\n')
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(5):
        build(tmp_path, version_id=f"d{n}", clock=fixed_clock(now - timedelta(days=5 - n)))
    site = tmp_path / "site"
    kept = sorted(p.parent.name for p in site.glob("alpha/*/*/data.json"))
    assert kept and "d0" not in kept
    target = f"s3://{bucket}/site"
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
    shutil.rmtree(site)
    pulled = s3_cli(tmp_path, endpoint, "pull", target)
    assert pulled.returncode == 0, pulled.stderr
    assert sorted(p.parent.name for p in site.glob("alpha/*/*/data.json")) == kept
    assert cli(tmp_path, "build", "--version-id", "d5").returncode == 0


def test_the_notification_ledger_travels_with_publish_and_pull(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    from notify_helpers import Receiver, Sequence_

    hook = Receiver()
    try:
        run = Sequence_(tmp_path, ["api"], f'[notify.targets.ops]\nurl = "{hook.url}"\n')
        target = f"s3://{bucket}/site"
        for state in ("ok", "fail", "fail", "ok"):  # each run starts from a fresh checkout
            shutil.rmtree(tmp_path / "site", ignore_errors=True)
            pulled = s3_cli(tmp_path, endpoint, "pull", target, "--missing-ok")
            assert pulled.returncode == 0, pulled.stderr
            run.build(all=state)
            assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
            assert cli(tmp_path, "notify").returncode == 0
            assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
        changes = [c["change"] for p in hook.payloads() for c in p["changes"]]
        assert changes == ["opened", "recovered"]
        ledger = json.loads(read(endpoint, bucket, "site/notify-ledger.json"))
        assert len(ledger["targets"]["ops"]["sent"]) == 2
    finally:
        hook.close()


@pytest.mark.parametrize("damage", [b"{not json", b'{"schema": 99, "dashboards": []}', b"[]",
                                    b'{"dashboards": [{"slug": "../x", "versions": []}]}'])
def test_publish_full_over_a_damaged_manifest_says_how_to_overwrite(
    tmp_path: Path, endpoint: str, bucket: str, damage: bytes
) -> None:
    write_project(tmp_path, {"alpha": simple()})
    target = f"s3://{bucket}/dash"
    cli(tmp_path, "build", "--version-id", "v1")
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
    s3(endpoint).put_object(Bucket=bucket, Key="dash/manifest.json", Body=damage)
    for args in ([], ["--full"]):
        refused = s3_cli(tmp_path, endpoint, "publish", target, *args)
        assert refused.returncode == 1
        (line,) = refused.stderr.strip().splitlines()
        assert line.startswith(f"{target}: manifest.json: the published manifest.json is "
                               "unreadable ("), line
        assert line.endswith(f"— run 'dashsite publish {target} --full --force' to replace it "
                             "with this site's, or fix it at the target"), line
        assert read(endpoint, bucket, "dash/manifest.json") == damage
    forced = s3_cli(tmp_path, endpoint, "publish", target, "--full", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "the published manifest.json is unreadable; --force replaces it" in forced.stderr
    assert read(endpoint, bucket, "dash/manifest.json") == \
        (tmp_path / "site" / "manifest.json").read_bytes()
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0  # readable again


def test_a_second_publish_with_nothing_changed_writes_nothing(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    write_project(tmp_path, {"alpha": simple()})
    build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    client = make_client(endpoint)
    writes: list[str] = []
    for call in ("PutObject", "DeleteObjects", "DeleteObject", "CopyObject"):
        client.meta.events.register(f"before-parameter-build.s3.{call}",
                                    lambda params, model, **_: writes.append(
                                        f"{model.name} {params.get('Key', '')}"))
    target = S3Target(bucket, "dash")
    publish_s3(tmp_path / "site", target, client=client)
    assert f"PutObject dash/{INDEX_FILE}" in writes
    writes.clear()
    again = publish_s3(tmp_path / "site", target, client=client)
    assert again.uploaded == [] and again.deleted == []
    assert writes == []  # not even the publish index
    build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(minutes=5)))
    third = publish_s3(tmp_path / "site", target, client=client)
    assert third.uploaded and f"PutObject dash/{INDEX_FILE}" in writes  # a change still writes


def test_publish_verify_repairs_objects_deleted_behind_its_back(
    tmp_path: Path, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashsite.publish import verify

    write_project(tmp_path, {"alpha": simple(), "beta": simple()}, config='unchanged = "version"\n')
    site = tmp_path / "site"
    for n in range(3):
        build(tmp_path, version_id=f"v{n}", clock=fixed_clock(T0 + timedelta(minutes=5 * n)))
    target = f"s3://{bucket}/p"
    assert s3_cli(tmp_path, endpoint, "publish", target).returncode == 0
    css = next(k for k in keys(endpoint, bucket) if k.startswith("p/assets/") and k.endswith(".css"))
    gone = sorted([css, f"p/alpha/{DAY}/v1/index.html", "p/beta/index.html"])
    for key in gone:
        s3(endpoint).delete_object(Bucket=bucket, Key=key)
    plain = s3_cli(tmp_path, endpoint, "publish", target)
    assert plain.returncode == 0
    assert not set(gone) & set(keys(endpoint, bucket))  # an ordinary publish cannot see it
    hashed: list[str] = []
    real = verify.site_files
    monkeypatch.setattr(verify, "site_files",
                        lambda where, relatives: real(where, hashed.extend(relatives) or relatives))
    dry = s3_cli(tmp_path, endpoint, "publish", target, "--verify", "--dry-run")
    assert sorted(line.removeprefix("upload ") for line in dry.stdout.splitlines()) == gone
    done = s3_cli(tmp_path, endpoint, "publish", target, "--verify")
    assert done.returncode == 0, done.stderr
    assert "uploaded 3," in done.stderr
    mirrored(site, endpoint, bucket, "p")
    # Versions present at the target were checked by name, not read and hashed.
    assert f"alpha/{DAY}/v0/index.html" not in hashed and f"alpha/{DAY}/v1/index.html" in hashed
    assert "beta/index.html" in hashed and "manifest.json" in hashed


def test_a_version_a_clock_stepped_back_files_in_the_month_before_is_published(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    from datetime import UTC, datetime

    write_project(tmp_path, {"alpha": simple()})
    site = tmp_path / "site"
    build(tmp_path, clock=fixed_clock(datetime(2026, 12, 1, 0, 30, tzinfo=UTC)))
    client = make_client(endpoint)
    target = S3Target(bucket, "dash")
    publish_s3(site, target, client=client)
    back = build(tmp_path, clock=fixed_clock(datetime(2026, 11, 30, 23, 50, tzinfo=UTC)))
    publish_s3(site, target, client=client)
    published = set(keys(endpoint, bucket))
    folder = vrel(site, "alpha", back.version_id)
    assert folder.startswith("alpha/2026-11-30/")
    assert {f"dash/{folder}/index.html", f"dash/{folder}/data.json",
            "dash/alpha/log/2026-11/30.jsonl"} <= published


def test_pull_all_keeps_a_site_whole_where_an_object_is_named_like_a_folder() -> None:
    """A stray object named like a dashboard's folder left every file in it out; one under
    a page's name took the page's place."""
    from dashsite.publish.s3 import site_keys

    kept, skipped = site_keys(["alpha", "alpha/index.html", "alpha/", "index.html",
                               "index.html/child", ".git/config", "a//b", "x/./y",
                               "manifest.json", "assets", "assets/style.1.css",
                               "alpha/2026-11-27/v1", "alpha/2026-11-27/v1/data.json"])
    assert kept == ["alpha/2026-11-27/v1/data.json", "alpha/index.html", "assets/style.1.css",
                    "index.html", "manifest.json"]
    assert skipped == [".git/config", "a//b", "alpha", "alpha/2026-11-27/v1", "assets",
                       "index.html/child", "x/./y"]


def test_an_incident_across_a_month_end_survives_a_round_of_pulls(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    """An outage from November 30 into December, each build on a fresh runner (pull,
    build, publish): its resolution is written into November's status file, which the
    publish sends too; it was left out (only the newest months were compared), and the
    next runner's pages lost the incident."""
    from test_status_site import flaky, page

    root = write_project(tmp_path / "p", {"alpha": flaky()}, config='expected_every = "5m"\n')
    target = f"s3://{bucket}/site"
    start = datetime(2026, 11, 30, 23, 45, tzinfo=UTC)
    for n, mode in enumerate(["7", "down", "down", "down", "down", "7", "7"]):
        if n:
            shutil.rmtree(root / "site")
            shutil.rmtree(root / ".dashsite", ignore_errors=True)  # a fresh runner
            assert s3_cli(root, endpoint, "pull", target).returncode == 0
        (root / "dashboards" / "alpha" / "mode.txt").write_text(mode)
        build(root, clock=fixed_clock(start + timedelta(minutes=5 * n)))
        assert s3_cli(root, endpoint, "publish", target).returncode == 0
    november = json.loads(read(endpoint, bucket, "site/alpha/log/2026-11/status.json"))
    assert [i["start"] for i in november["incidents"]] == ["2026-11-30T23:50:00+00:00"]
    items = page(root, "alpha/index.html").find("section", class_="incidents")
    assert "From 2026-11-30 23:50 UTC to 2026-12-01 00:10 UTC" in " ".join(items.text().split())


def test_a_month_ends_on_fresh_runners_and_its_history_pages_stay_published(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    """Each build on a fresh runner (pull, build, publish). A pull brings the log, not the
    history pages, so December's first publish found November's page missing here and
    deleted it from the bucket, while the history index still linked it."""
    from test_status_site import flaky

    root = write_project(tmp_path / "p", {"alpha": flaky()}, config='expected_every = "5m"\n')
    target = f"s3://{bucket}/site"
    start = datetime(2026, 11, 30, 23, 50, tzinfo=UTC)
    for n, mode in enumerate(["7", "8", "9", "10"]):  # the third is December's first
        if n:
            shutil.rmtree(root / "site")
            shutil.rmtree(root / ".dashsite", ignore_errors=True)
            assert s3_cli(root, endpoint, "pull", target).returncode == 0
        (root / "dashboards" / "alpha" / "mode.txt").write_text(mode)
        build(root, clock=fixed_clock(start + timedelta(minutes=5 * n)))
        assert s3_cli(root, endpoint, "publish", target).returncode == 0
    published = set(keys(endpoint, bucket))
    history = parse(read(endpoint, bucket, "site/alpha/history/index.html").decode())
    months = {a.attrs["href"] for a in history.find("ul", class_="history-months").find_all("a")}
    assert months == {"2026-11.html", "2026-12.html"}
    assert {f"site/alpha/history/{name}" for name in months} <= published
    november = parse(read(endpoint, bucket, "site/alpha/history/2026-11.html").decode())
    assert len(list(november.find("table", class_="history-table").find("tbody").find_all("tr"))) == 2


def test_a_page_missing_here_is_deleted_only_when_the_site_no_longer_has_it() -> None:
    from dashsite.publish.s3 import _still_published
    from dashsite.store.manifest import DashboardRecord, MonthInfo

    record = DashboardRecord("alpha", "Alpha")
    record.months["2026-11"] = MonthInfo(count=250, days={"01"})  # two pages of 200
    manifest = Manifest(dashboards={"alpha": record})
    listed = {name: _still_published(f"alpha/history/{name}", manifest) for name in (
        "2026-11.html", "2026-11-2.html", "2026-11-3.html", "2026-10.html", "index.html",
        "months.html")}
    assert listed == {"2026-11.html": True, "2026-11-2.html": True, "2026-11-3.html": False,
                      "2026-10.html": False, "index.html": False, "months.html": False}
    assert not _still_published("beta/history/2026-11.html", manifest)
    record.active = False  # archived: a build leaves its files as they are
    assert _still_published("alpha/history/index.html", manifest)
    assert _still_published("alpha/feed.xml", manifest)


def _dangling(endpoint: str, bucket: str) -> list[tuple[str, str]]:
    """Each relative link of each page in the bucket whose object is not there."""
    present = set(keys(endpoint, bucket))
    found = []
    for key in sorted(k for k in present if k.endswith(".html")):
        for node in parse(read(endpoint, bucket, key).decode()).iter():
            for name in ("href", "src"):
                link = node.attrs.get(name) or ""
                parts = urlsplit(link)
                if not parts.path or parts.scheme or link.startswith("/"):
                    continue
                if posixpath.normpath(posixpath.join(posixpath.dirname(key), parts.path)) not in present:
                    found.append((key, link))
    return found


RUNNER_CASES = {
    # the tiers thin pages after a day and data after two, across two month ends; a pull
    # that brings one version's log (history = 1) left the month they thinned unread
    "tiers": ('history = 1\nkeep_pages = "1d"\nkeep_data = "2d"\n', [
        (datetime(2026, 10, 31, 23, 50, tzinfo=UTC), {}),
        (datetime(2026, 11, 30, 23, 50, tzinfo=UTC), {}),
        (datetime(2026, 11, 30, 23, 55, tzinfo=UTC), {}),
        (datetime(2026, 12, 1, 0, 5, tzinfo=UTC), {}),
        (datetime(2026, 12, 2, 0, 15, tzinfo=UTC), {}),
        (datetime(2026, 12, 4, 0, 15, tzinfo=UTC), {}),
    ]),
    # 401 versions fill three history pages of November; retention then keeps 150: one
    "retention": ("", [
        (datetime(2026, 11, 29, 12, 0, tzinfo=UTC), {}),
        (datetime(2026, 11, 29, 12, 5, tzinfo=UTC), {}),
        (datetime(2026, 11, 29, 12, 10, tzinfo=UTC), {"retention": "retention = 150\n"}),
    ]),
    # beta leaves dashboards/: archived, its pages stay as they are, its latest page whole
    "archived": ('keep_pages = "1d"\n', [
        (datetime(2026, 11, 30, 12, 0, tzinfo=UTC), {}),
        (datetime(2026, 11, 30, 12, 5, tzinfo=UTC), {"archive": "beta"}),
        (datetime(2026, 12, 9, 12, 0, tzinfo=UTC), {}),
    ]),
}


@pytest.mark.parametrize("case", sorted(RUNNER_CASES))
def test_fresh_runners_publish_what_one_machine_publishes(
    tmp_path: Path, endpoint: str, case: str
) -> None:
    """The S3 CI recipe (each build on a fresh runner: pull, build, publish) beside the same
    builds on one machine: after each round both buckets hold the same objects, and no
    page links to one that is missing. A pull brings the log, not the pages, and publish
    took pages it found missing for deleted (history pages, an archived dashboard's
    files); the tiers deleted version pages a history page it could not redraw (its
    month's log not pulled) still linked, and an archived dashboard's latest one."""
    from test_status_site import flaky

    config, rounds = RUNNER_CASES[case]
    roots, buckets = [], []
    for name in ("runners", "machine"):
        root = write_project(tmp_path / name, {"alpha": flaky(), "beta": flaky("Beta")},
                             config='expected_every = "5m"\nunchanged = "version"\n' + config)
        if case == "retention":  # three pages of November, as 401 earlier builds left them
            seed_log(root, ["alpha"], 401, rounds[0][0] - timedelta(minutes=5))
        roots.append(root)
        buckets.append(f"dash-{uuid.uuid4().hex[:12]}")
        s3(endpoint).create_bucket(Bucket=buckets[-1])
    for n, (moment, change) in enumerate(rounds):
        for root, bucket in zip(roots, buckets, strict=True):
            target = f"s3://{bucket}/site"
            if "retention" in change:
                with (root / "dashsite.toml").open("a") as toml:
                    toml.write(change["retention"])
            if "archive" in change:
                shutil.rmtree(root / "dashboards" / change["archive"])
            if n and root is roots[0]:  # a fresh runner
                shutil.rmtree(root / "site")
                shutil.rmtree(root / ".dashsite", ignore_errors=True)
                pulled = s3_cli(root, endpoint, "pull", target)
                assert pulled.returncode == 0, pulled.stderr
            for slug in ("alpha", "beta"):
                if (root / "dashboards" / slug).is_dir():
                    (root / "dashboards" / slug / "mode.txt").write_text(str(7 + n))
            build(root, clock=fixed_clock(moment))
            published = s3_cli(root, endpoint, "publish", target)
            assert published.returncode == 0, published.stderr
        runners, machine = (set(keys(endpoint, b)) for b in buckets)
        assert runners == machine, (n, sorted(runners ^ machine))
        dangling = _dangling(endpoint, buckets[0])
        assert dangling == _dangling(endpoint, buckets[1]), n
        if case != "retention":  # (a snapshot links its row's page, which retention renumbers:
            assert dangling == [], n  # so on one machine too; see the note of this change)
