"""Publishing to GitHub Pages: a real git repository with a bare repository as its remote."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from dashsite.store.manifest import Manifest
from projects import T0, build, cli, fixed_clock, seed_log, simple, vdir, vrel, write_project

from htmltree import parse


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "config", "user.name", "Test")
    git(project, "config", "user.email", "test@example.com")
    write_project(project, {"alpha": simple("Alpha")})
    (project / ".gitignore").write_text("/site/\n/.site.*\n")
    (project / "notes.txt").write_text("work in progress\n")
    git(project, "add", "dashboards", ".gitignore")
    git(project, "commit", "--quiet", "-m", "dashboards")
    git(project, "remote", "add", "origin", str(remote))
    return project


def remote_files(repo: Path, ref: str = "gh-pages") -> list[str]:
    return git(repo.parent / "remote.git", "ls-tree", "-r", "--name-only", ref).splitlines()


def remote_read(repo: Path, path: str, ref: str = "gh-pages") -> str:
    return git(repo.parent / "remote.git", "show", f"{ref}:{path}")


def untouched_state(repo: Path) -> tuple[str, str, str, str]:
    return (git(repo, "rev-parse", "HEAD"), git(repo, "symbolic-ref", "HEAD"),
            git(repo, "status", "--porcelain"), git(repo, "ls-files", "--stage"))


def test_publish_commits_the_site_without_touching_the_work_tree(repo: Path) -> None:
    assert cli(repo, "build", "--version-id", "v1").returncode == 0
    before = untouched_state(repo)
    done = cli(repo, "publish", "gh-pages")
    assert done.returncode == 0, done.stderr
    assert "origin/gh-pages: pushed" in done.stderr
    files = remote_files(repo)
    v1 = vrel(repo / "site", "alpha", "v1")
    assert {".nojekyll", "index.html", "manifest.json", "alpha/index.html",
            f"{v1}/index.html", f"{v1}/data.json", "alpha/history/index.html"} <= set(files)
    assert json.loads(remote_read(repo, "manifest.json"))["dashboards"][0]["latest"]["id"] == "v1"
    assert untouched_state(repo) == before
    assert (repo / "notes.txt").read_text() == "work in progress\n"


def test_each_publish_is_a_new_commit_and_unchanged_is_a_no_op(repo: Path) -> None:
    cli(repo, "build", "--version-id", "v1")
    assert cli(repo, "publish", "gh-pages", "--message", "first").returncode == 0
    first = git(repo.parent / "remote.git", "rev-parse", "gh-pages")
    same = cli(repo, "publish", "gh-pages")
    assert same.returncode == 0 and "already up to date" in same.stderr
    assert git(repo.parent / "remote.git", "rev-parse", "gh-pages") == first
    cli(repo, "build", "--version-id", "v2")
    assert cli(repo, "publish", "gh-pages").returncode == 0
    log = git(repo.parent / "remote.git", "log", "--format=%s", "gh-pages").splitlines()
    assert len(log) == 2 and log[-1] == "first"
    assert git(repo.parent / "remote.git", "rev-parse", "gh-pages~1") == first
    assert f"{vrel(repo / 'site', 'alpha', 'v1')}/index.html" in remote_files(repo, first)


def test_build_publish_pull_build_publish_keeps_history(repo: Path) -> None:
    (repo / "dashsite.toml").write_text('unchanged = "version"\n')  # (checks: below)
    assert cli(repo, "build", "--version-id", "ci-1").returncode == 0
    assert cli(repo, "publish", "gh-pages").returncode == 0
    shutil.rmtree(repo / "site")
    pulled = cli(repo, "pull", "gh-pages")
    assert pulled.returncode == 0, pulled.stderr
    assert (vdir(repo / "site", "alpha", "ci-1") / "data.json").is_file()
    assert cli(repo, "build", "--version-id", "ci-2").returncode == 0
    again = cli(repo, "publish", "gh-pages")
    assert again.returncode == 0, again.stderr
    manifest = json.loads(remote_read(repo, "manifest.json"))
    assert manifest["dashboards"][0]["count"] == 2
    month = manifest["dashboards"][0]["months"][0]
    (shard,) = Manifest.from_json(manifest).dashboards["alpha"].log_paths(month["month"])
    log = remote_read(repo, shard)
    assert [json.loads(line)["id"] for line in log.splitlines()] == ["ci-1", "ci-2"]
    index = parse(remote_read(repo, "index.html"))
    assert "2 versions" in index.find("li", class_="card").text()
    site = repo / "site"
    assert {f"{vrel(site, 'alpha', 'ci-1')}/index.html",
            f"{vrel(site, 'alpha', 'ci-2')}/index.html"} <= set(remote_files(repo))


def test_checks_are_published_and_pulled_with_the_log(repo: Path) -> None:
    """The CI round (pull, build, publish) with data that does not change: each build files
    a check, published beside the day's log and pulled back, so the uptime a fresh runner
    draws counts them; no version folder is made for them."""
    from dashsite.core.config import load_config
    from dashsite.status.timeline import Timeline
    from dashsite.store.version_store import VersionStore
    from dashsite.store.write import ReadOnlySite

    assert cli(repo, "build", "--version-id", "ci-1").returncode == 0
    assert cli(repo, "publish", "gh-pages").returncode == 0
    for run in ("ci-2", "ci-3"):
        shutil.rmtree(repo / "site")
        shutil.rmtree(repo / ".dashsite", ignore_errors=True)  # a fresh runner
        assert cli(repo, "pull", "gh-pages").returncode == 0
        done = cli(repo, "build", "--version-id", run)
        assert done.returncode == 0 and "Checked 1 dashboard, data unchanged" in done.stderr
        assert cli(repo, "publish", "gh-pages").returncode == 0
    alpha = Manifest.from_json(json.loads(remote_read(repo, "manifest.json"))).dashboards["alpha"]
    assert alpha.latest is not None and alpha.latest.id == "ci-1" and alpha.count == 1
    assert alpha.checked is not None and alpha.checked.id == "ci-3"
    (month,) = alpha.months
    (checks,) = alpha.check_paths(month)
    lines = [json.loads(line) for line in remote_read(repo, checks).splitlines()]
    assert [(c["id"], c["same"]) for c in lines] == [("ci-2", "ci-1"), ("ci-3", "ci-1")]
    files = set(remote_files(repo))
    assert checks in files and not any("/ci-2/" in f or "/ci-3/" in f for f in files)
    page = parse(remote_read(repo, "alpha/index.html"))
    meta = " ".join(page.find("p", class_="meta").text().split())
    assert "unchanged since version ci-1" in meta
    # Pulled again, a build's status reads the checks: the site was seen at ci-3's time.
    shutil.rmtree(repo / "site")
    assert cli(repo, "pull", "gh-pages").returncode == 0
    store = VersionStore(repo / "site")
    record = store.load_manifest().dashboards["alpha"]
    day = alpha.checked.day
    assert [
        r.id
        for r in Timeline(store, ReadOnlySite(store.site))._records(
            record, *(2 * [date.fromisoformat(day)])
        )
    ] == ["ci-1", "ci-2", "ci-3"]
    assert load_config(repo).unchanged == "check"


def test_newer_checks_are_not_dropped_by_a_publish_or_a_pull(repo: Path) -> None:
    """Checks are builds too: a site that lacks the target's newest check does not publish
    over it, and a pull does not drop a local check that is not published (as for versions;
    --force keeps one side)."""
    assert cli(repo, "build", "--version-id", "v1").returncode == 0
    assert cli(repo, "publish", "gh-pages").returncode == 0
    other = repo.parent / "other"
    git(repo.parent, "clone", "--quiet", str(repo), str(other))
    git(other, "remote", "set-url", "origin", str(repo.parent / "remote.git"))
    git(other, "config", "user.name", "Test")
    git(other, "config", "user.email", "test@example.com")
    assert cli(other, "pull", "gh-pages").returncode == 0
    assert cli(repo, "build", "--version-id", "c2").returncode == 0  # the data unchanged
    assert cli(repo, "publish", "gh-pages").returncode == 0
    refused = cli(other, "publish", "gh-pages")
    assert refused.returncode == 1, refused.stderr
    assert "alpha: checks of v1, the newest c2" in refused.stderr
    assert cli(repo, "build", "--version-id", "c3").returncode == 0  # not published
    kept = cli(repo, "pull", "gh-pages")
    assert kept.returncode == 1 and "alpha: checks of v1, the newest c3" in kept.stderr
    assert cli(repo, "publish", "gh-pages").returncode == 0
    assert cli(other, "pull", "gh-pages").returncode == 0
    checks = (other / "site" / "alpha" / "log").glob("*/*.checks.jsonl")
    assert [json.loads(line)["id"] for p in checks for line in p.read_text().splitlines()] == [
        "c2", "c3"]


def test_dry_run_commits_nothing(repo: Path) -> None:
    cli(repo, "build", "--version-id", "v1")
    done = cli(repo, "publish", "gh-pages", "--dry-run")
    assert done.returncode == 0
    assert "A\tindex.html" in done.stdout.splitlines()
    assert "A\t.nojekyll" in done.stdout.splitlines()
    assert git(repo.parent / "remote.git", "branch", "--list") == ""


def test_pull_refuses_to_drop_unpublished_local_versions(repo: Path) -> None:
    (repo / "dashsite.toml").write_text('unchanged = "version"\n')
    cli(repo, "build", "--version-id", "v1")
    cli(repo, "publish", "gh-pages")
    cli(repo, "build", "--version-id", "v2")
    refused = cli(repo, "pull", "gh-pages")
    assert refused.returncode == 1
    assert ("site/ has versions that are not published (alpha: 1 version(s), the newest v2)"
            in refused.stderr)
    assert vdir(repo / "site", "alpha", "v2").is_dir()
    # Each refusal says what to do when both sides have versions the other lacks, rather
    # than sending the user from one command to the other.
    assert ("publish them first (if publish refuses too: --force on pull or publish keeps "
            "that side's versions)") in refused.stderr
    assert len(refused.stderr.strip()) < 300 and "…" not in refused.stderr  # told whole


def test_clear_errors(repo: Path, tmp_path: Path) -> None:
    cli(repo, "build")
    no_remote = cli(repo, "publish", "gh-pages", "--remote", "upstream")
    assert no_remote.returncode == 1
    assert "no such git remote 'upstream'" in no_remote.stderr
    nothing = cli(repo, "pull", "gh-pages")
    assert nothing.returncode == 1 and "nothing is published on origin/gh-pages" in nothing.stderr
    first_run = cli(repo, "pull", "gh-pages", "--missing-ok")
    assert first_run.returncode == 0 and "starting a new history" in first_run.stderr
    loose = tmp_path / "loose"
    write_project(loose, {"alpha": simple()})
    cli(loose, "build")
    not_repo = cli(loose, "publish", "gh-pages")
    assert not_repo.returncode == 1 and "not a git repository" in not_repo.stderr
    pull_not_repo = cli(loose, "pull", "gh-pages")  # (said for a pull, not a publish)
    assert pull_not_repo.returncode == 1
    assert "not a git repository — pull from inside the repository" in pull_not_repo.stderr
    a_path = cli(repo, "publish", "gh-pages", "--remote", str(tmp_path / "x.git"))
    assert a_path.returncode == 1  # a path where a remote's name goes: the hint names one
    assert f"git remote add pages {tmp_path / 'x.git'}) and pass --remote pages" in a_path.stderr
    subprocess.run(["git", "remote", "add", "gone", str(tmp_path / "missing.git")], cwd=repo,
                   check=True)
    gone = cli(repo, "pull", "gh-pages", "--remote", "gone")
    assert gone.returncode == 1
    assert "does not appear to be a git repository" in gone.stderr, gone.stderr  # git's words
    (tmp_path / "empty-project").mkdir()
    no_site = cli(tmp_path / "empty-project", "publish", "gh-pages")
    assert no_site.returncode == 1 and "no built site to publish" in no_site.stderr
    for done in (no_remote, nothing, not_repo, no_site, pull_not_repo, a_path, gone):
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_publish_keeps_files_on_the_branch_that_dashsite_did_not_write(
    repo: Path, tmp_path: Path
) -> None:
    assert cli(repo, "build", "--version-id", "v1").returncode == 0
    assert cli(repo, "publish", "gh-pages").returncode == 0
    # Someone adds a custom domain and a hand-written page on the branch.
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", "--branch", "gh-pages", str(tmp_path / "remote.git"),
        str(other))
    (other / "CNAME").write_text("status.example.com\n")
    (other / "about").mkdir()
    (other / "about" / "index.html").write_text("<p>hand-written</p>")
    git(other, "add", "CNAME", "about")
    git(other, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "--quiet", "-m", "domain")
    git(other, "push", "--quiet", "origin", "gh-pages")
    # The dashboard is renamed: its old folder is dashsite's and goes; the others stay.
    shutil.move(repo / "dashboards" / "alpha", repo / "dashboards" / "beta")
    shutil.rmtree(repo / "site")
    assert cli(repo, "build", "--version-id", "v2").returncode == 0
    done = cli(repo, "publish", "gh-pages", "--force")
    assert done.returncode == 0, done.stderr
    files = set(remote_files(repo))
    v2 = vrel(repo / "site", "beta", "v2")
    assert {"CNAME", "about/index.html", f"{v2}/index.html", "index.html"} <= files
    assert remote_read(repo, "CNAME") == "status.example.com"
    assert not any(f.startswith("alpha/") for f in files)


def test_publish_keeps_its_index_and_never_publishes_leftovers(repo: Path) -> None:
    (repo / "dashsite.toml").write_text('unchanged = "version"\n')
    assert cli(repo, "build", "--version-id", "v1").returncode == 0
    assert cli(repo, "publish", "gh-pages").returncode == 0
    kept = list((repo / ".dashsite").glob("gh-pages-*.index"))
    assert len(kept) == 1  # beside the site: the next publish hashes only what changed
    (repo / "site" / ".dashsite-tmp").mkdir()
    (repo / "site" / ".dashsite-tmp" / "half.html").write_text("half a version")
    assert cli(repo, "build", "--version-id", "v2").returncode == 0
    (repo / "site" / ".dashsite-tmp").mkdir(exist_ok=True)
    (repo / "site" / ".dashsite-tmp" / "half.html").write_text("half a version")
    assert cli(repo, "publish", "gh-pages").returncode == 0
    files = set(remote_files(repo))
    site = repo / "site"
    assert f"{vrel(site, 'alpha', 'v2')}/index.html" in files
    assert f"{vrel(site, 'alpha', 'v1')}/index.html" in files
    assert not any(f.startswith(".dashsite-tmp") for f in files)
    # Hidden files are not part of the site (S3 leaves them out too): a user's dotfile at
    # the top or in a dashboard's folder, a lock, are never committed to the branch.
    (site / ".secret").write_text("token")
    (site / "alpha" / ".env").write_text("token")
    (site / ".dashsite").mkdir(exist_ok=True)
    (site / ".dashsite" / "site.lock").write_text("1")
    assert cli(repo, "build", "--version-id", "v2b").returncode == 0
    assert cli(repo, "publish", "gh-pages").returncode == 0
    files = set(remote_files(repo))
    assert f"{vrel(site, 'alpha', 'v2b')}/index.html" in files
    hidden = [f for f in files if any(part.startswith(".") for part in f.split("/"))]
    assert hidden == [".nojekyll"], hidden
    kept[0].unlink()  # a lost index is rebuilt from the branch
    assert cli(repo, "build", "--version-id", "v3").returncode == 0
    assert cli(repo, "publish", "gh-pages").returncode == 0
    assert {f"{vrel(site, 'alpha', 'v1')}/index.html",
            f"{vrel(site, 'alpha', 'v3')}/index.html"} <= set(remote_files(repo))


@pytest.mark.parametrize("below", [False, True])
def test_hidden_files_an_earlier_release_published_leave_the_branch(
    repo: Path, tmp_path: Path, below: bool
) -> None:
    """Committed by a release that published hidden files: dashsite's state and a dotfile
    in a dashboard's folder go on the next publish; a hidden file of the user's own at the
    top (.well-known/) stays, like every file dashsite did not write. Also with the project
    in a folder of its repository (``below``)."""
    if below:  # the project moved into monitoring/ of the same repository
        (repo / "monitoring").mkdir()
        git(repo, "mv", "dashboards", "monitoring/dashboards")
        git(repo, "commit", "--quiet", "-m", "moved")
        repo = repo / "monitoring"
    assert cli(repo, "build", "--version-id", "v1").returncode == 0
    assert cli(repo, "publish", "gh-pages").returncode == 0
    other = tmp_path / "other"
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--branch", "gh-pages", str(remote), str(other))
    for name in ("alpha/.env", ".dashsite/site.lock", ".dashsite-tmp/journal.json",
                 ".well-known/security.txt"):
        (other / name).parent.mkdir(parents=True, exist_ok=True)
        (other / name).write_text("x")
    git(other, "add", "--force", ".")
    git(other, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "--quiet",
        "-m", "an earlier release")
    git(other, "push", "--quiet", "origin", "gh-pages")
    assert cli(repo, "build", "--version-id", "v2").returncode == 0
    done = cli(repo, "publish", "gh-pages")
    assert done.returncode == 0, done.stderr
    on_branch = git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    hidden = [f for f in on_branch if any(p.startswith(".") for p in f.split("/"))]
    assert sorted(hidden) == [".nojekyll", ".well-known/security.txt"], hidden


def test_months_before_the_year_travel_with_publish_and_pull(repo: Path) -> None:
    from datetime import timedelta

    seed_log(repo, ["alpha"], 420, T0 - timedelta(hours=1), every=24 * 60)  # 14 months
    build(repo, version_id="b1", clock=fixed_clock(T0))
    assert cli(repo, "publish", "gh-pages").returncode == 0
    site = repo / "site"
    url = json.loads((site / "manifest.json").read_text())["dashboards"][0]["earlier"]["url"]
    assert remote_read(repo, url) == (site / url).read_text()
    # the next publish reads the published manifest, and its months file, from the branch
    build(repo, version_id="b2", clock=fixed_clock(T0 + timedelta(days=31)))
    again = cli(repo, "publish", "gh-pages")
    assert again.returncode == 0, again.stderr
    later = json.loads((site / "manifest.json").read_text())["dashboards"][0]["earlier"]["url"]
    files = remote_files(repo)
    assert later in files and url not in files
    shutil.rmtree(site)
    assert cli(repo, "pull", "gh-pages").returncode == 0
    assert (site / later).is_file() and not (site / url).exists()
    assert cli(repo, "build", "--version-id", "b3").returncode == 0


def test_publish_over_a_damaged_manifest_says_how_to_overwrite(repo: Path, tmp_path: Path) -> None:
    assert cli(repo, "build", "--version-id", "v1").returncode == 0
    assert cli(repo, "publish", "gh-pages").returncode == 0
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--branch", "gh-pages", str(tmp_path / "remote.git"),
        str(clone))
    git(clone, "config", "user.name", "Other")
    git(clone, "config", "user.email", "other@example.com")
    (clone / "manifest.json").write_text("{cut short")
    git(clone, "commit", "--quiet", "-am", "damage")
    git(clone, "push", "--quiet", "origin", "gh-pages")
    refused = cli(repo, "publish", "gh-pages")
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("origin/gh-pages: manifest.json: the published manifest.json is "
                           "unreadable ("), line
    assert "run 'dashsite publish gh-pages --force' to replace it" in line
    forced = cli(repo, "publish", "gh-pages", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(remote_read(repo, "manifest.json")) == json.loads(
        (repo / "site" / "manifest.json").read_text())


def test_a_runner_that_keeps_live_json_retimes_the_pages_it_pulled(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CI round as the example runs it: a fresh checkout, ``.dashsite/site.live.json``
    restored from the cache, the site pulled from gh-pages. The latest page a check drew
    comes back byte for byte, so the next check retimes it, and it is what a runner
    without the cache draws."""
    from datetime import timedelta

    from projects import count_layouts

    drawn = count_layouts(monkeypatch)
    kept = repo.parent / "live.json"
    for n in range(3):
        if n:  # a fresh runner: the cache's file back, the site pulled
            shutil.rmtree(repo / "site")
            shutil.rmtree(repo / ".dashsite")
            (repo / ".dashsite").mkdir()
            shutil.copy(kept, repo / ".dashsite" / "site.live.json")
            assert cli(repo, "pull", "gh-pages").returncode == 0
        twin = repo.parent / f"twin-{n}"
        shutil.copytree(repo, twin, ignore=shutil.ignore_patterns(".dashsite"))
        moment = T0 + timedelta(minutes=5 * n)
        drawn.clear()
        build(repo, version_id=f"ci-{n}", clock=fixed_clock(moment))
        ours = drawn["alpha"]
        build(twin, version_id=f"ci-{n}", clock=fixed_clock(moment))
        page = (repo / "site" / "alpha" / "index.html").read_text()
        assert page == (twin / "site" / "alpha" / "index.html").read_text(), n
        assert ours == [2, 1, 0][n], (n, ours)  # a version's two, a first check's, retimed
        shutil.copy(repo / ".dashsite" / "site.live.json", kept)
        assert cli(repo, "publish", "gh-pages").returncode == 0
    assert remote_read(repo, "alpha/index.html") == page.rstrip("\n")
