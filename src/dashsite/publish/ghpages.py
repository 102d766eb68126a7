"""Publish to and pull from a GitHub Pages branch, with git plumbing only.

The site is committed onto the branch through a temporary index file, so
the user's working tree, index and current branch are never touched. Each
publish is a new commit on top of the published branch: earlier commits
stay. A ``.nojekyll`` file is added so Pages serves the files as they are.
Files on the branch that dashsite did not write (a ``CNAME`` for a custom
domain, a hand-written page) are kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dashsite.core.errors import NothingPublished, PublishError
from dashsite.publish import GitPagesTarget
from dashsite.publish.damaged import overwriting, unreadable_manifest
from dashsite.publish.plan import compare_versions, unknown_versions_error
from dashsite.store import layout
from dashsite.store.layout import MANIFEST_FILE, STATE_FOLDER, TEMP_FOLDER
from dashsite.store.manifest import read_first
from dashsite.store.version_store import Manifest, VersionStore
from dashsite.store.write import StagedSite, state_dir

DEFAULT_IDENTITY = {
    "GIT_AUTHOR_NAME": "dashsite",
    "GIT_AUTHOR_EMAIL": "dashsite@localhost",
    "GIT_COMMITTER_NAME": "dashsite",
    "GIT_COMMITTER_EMAIL": "dashsite@localhost",
}


@dataclass(slots=True)
class GitReport:
    """What a publish did: the new commit (if any) and the changed paths."""

    commit: str | None = None
    changes: list[str] = field(default_factory=list)
    pushed: bool = False


class Git:
    """Runs git in one repository; failures become one-line PublishErrors."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        check: bool = True,
        cwd: Path | None = None,
    ) -> str:
        """Run ``git ARGS`` and return its stripped output."""
        done = subprocess.run(
            ["git", *args],
            cwd=cwd or self.repo,
            capture_output=True,
            text=True,
            input=stdin,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
            check=False,
        )
        if check and done.returncode != 0:
            raise PublishError(f"git {args[0]} failed: {_said(done.stderr)}")
        return done.stdout.strip() if done.returncode == 0 else ""

    def _bytes(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", *args],
            cwd=self.repo,
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )

    def show(self, commit: str, path: str) -> bytes | None:
        """The bytes of ``path`` in ``commit``; None if it has no such file."""
        done = self._bytes("cat-file", "blob", f"{commit}:{path}")
        return done.stdout if done.returncode == 0 else None

    def ok(self, *args: str) -> bool:
        """Whether ``git ARGS`` succeeds."""
        return self._bytes(*args).returncode == 0


def _said(stderr: str) -> str:
    """What git said, in one line: its ``fatal:``/``error:`` lines (the last is often a
    bare "and the repository exists.")."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    told = [line for line in lines if line.startswith(("fatal:", "error:"))] or lines[-1:]
    return " ".join(told) or "no output"


def open_repository(root: Path, target: GitPagesTarget, verb: str = "publish") -> Git:
    """The git repository holding ``root``, checked to have the target's remote."""
    git = Git(root)
    if not git.ok("rev-parse", "--git-dir"):
        raise PublishError(
            "not a git repository",
            path=str(root),
            hint=f"{verb} from inside the repository"
            + (", or to s3://" if verb == "publish" else ", or from s3://"),
        )
    if not git.ok("remote", "get-url", target.remote):
        named = "/" not in target.remote and ":" not in target.remote
        raise PublishError(
            f"no such git remote '{target.remote}'",
            hint=f"add it (git remote add {target.remote} URL) or pass --remote NAME"
            if named
            else "--remote takes a remote's name: add one (git remote add pages "
            f"{target.remote}) and pass --remote pages",
        )
    return git


def fetch_branch(git: Git, target: GitPagesTarget) -> str | None:
    """Fetch the published branch; its commit, or None if it does not exist yet."""
    tracking = f"refs/remotes/{target.remote}/{target.branch}"
    if git.ok("ls-remote", "--exit-code", "--heads", target.remote, target.branch):
        git.run("fetch", "--quiet", target.remote, f"+refs/heads/{target.branch}:{tracking}")
        return git.run("rev-parse", "--verify", f"{tracking}^{{commit}}")
    git.run("ls-remote", target.remote)  # a remote that cannot be reached fails here
    return None


def _file_safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def _identity(git: Git) -> dict[str, str]:
    if git.run("config", "user.email", check=False):
        return {}
    return DEFAULT_IDENTITY


def publish_gh_pages(
    site: Path,
    root: Path,
    target: GitPagesTarget,
    *,
    message: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> GitReport:
    """Commit ``site`` onto the branch and push it.

    The index used to build the commit is kept beside the site (in
    ``.dashsite/``), so git's stat cache hashes only the files that changed
    since the last publish; it is rebuilt from the branch whenever the branch
    moved without us.
    """
    if not (site / MANIFEST_FILE).is_file():
        raise PublishError(
            "no built site to publish", path=site.name, hint="run 'dashsite build' first"
        )
    git = open_repository(root, target)
    parent = fetch_branch(git, target)
    store = VersionStore(site)
    local = store.load_manifest()
    owned = {*layout.SITE_FILES, *local.dashboards}
    if parent is not None:
        raw = git.run("show", f"{parent}:{MANIFEST_FILE}", check=False)
        published = None
        if raw:
            try:
                published = Manifest.from_json(
                    json.loads(raw),
                    read_first(store.read, lambda path: git.show(parent, path)),
                )
            except (ValueError, RecursionError) as exc:
                typed = " ".join(
                    ["gh-pages"]
                    + ([f"--remote {target.remote}"] if target.remote != "origin" else [])
                    + ([f"--branch {target.branch}"] if target.branch != "gh-pages" else [])
                )
                damaged = unreadable_manifest(str(target), exc, command=typed, forcing="--force")
                if not force:
                    raise damaged from None
                overwriting(str(target), damaged, say)
        if published is not None:
            owned |= set(published.dashboards)
            diff = compare_versions(local, published, store.knows)
            if diff.unknown and not force:
                raise unknown_versions_error(diff, "gh-pages")
    report = GitReport()
    index = state_dir(site) / f"gh-pages-{_file_safe(str(target))}.index"
    env = {"GIT_INDEX_FILE": str(index)}
    git_dir = git.run("rev-parse", "--absolute-git-dir")
    in_site = (f"--git-dir={git_dir}", f"--work-tree={site}")
    base = git.run("rev-parse", f"{parent}^{{tree}}") if parent is not None else None
    if not index.is_file() or git.run("write-tree", env=env, check=False) != base:
        git.run("read-tree", *([parent] if parent else ["--empty"]), env=env)
    on_branch = set(git.run("ls-tree", "--name-only", parent).splitlines()) if parent else set()
    # What dashsite owns is replaced by the site's copy (gone if the site lost it);
    # anything else on the branch (a CNAME, a hand-written page) is kept.
    replaced = sorted(n for n in owned if n in on_branch or (site / n).exists())
    if replaced:
        git.run(*in_site, "add", "--all", "--force", "--", *replaced, *HIDDEN, env=env, cwd=site)
    git.run(*in_site, "add", "--no-all", "--force", "--", ".", *HIDDEN, env=env, cwd=site)
    # Hidden files an earlier release committed (dashsite's state, a dotfile in a dashboard's
    # folder) leave the branch: the pathspecs above keep them from being added, not removed.
    listed = git.run(*in_site, "ls-files", "-z", env=env, cwd=site).split("\0")
    stale = [
        name
        for name in listed
        if name
        and any(part.startswith(".") for part in name.split("/"))
        and (name.split("/")[0] in owned or name.split("/")[0] in (TEMP_FOLDER, STATE_FOLDER))
    ]
    if stale:
        git.run(*in_site, "update-index", "--force-remove", "--", *stale, env=env, cwd=site)
    blob = git.run("hash-object", "-w", "--stdin", stdin="")
    git.run("update-index", "--add", "--cacheinfo", f"100644,{blob},.nojekyll", env=env)
    tree = git.run("write-tree", env=env)
    if parent is not None and git.run("rev-parse", f"{parent}^{{tree}}") == tree:
        say(f"{target} is already up to date")
        return report
    if parent is not None:
        report.changes = git.run("diff-tree", "-r", "--name-status", parent, tree).splitlines()
    else:
        listed = git.run("ls-files", env=env).splitlines()
        report.changes = [f"A\t{name}" for name in listed]
    if dry_run:
        return report
    text = message or f"dashsite: publish {local.title}"
    args = ["commit-tree", tree, "-m", text] + (["-p", parent] if parent else [])
    report.commit = git.run(*args, env=_identity(git))
    push = subprocess.run(
        ["git", "push", "--quiet", target.remote, f"{report.commit}:refs/heads/{target.branch}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    if push.returncode != 0:
        detail = (push.stderr.strip().splitlines() or ["no output"])[-1]
        hint = (
            "the branch moved while publishing: run publish again"
            if "rejected" in push.stderr or "fetch first" in push.stderr
            else "check the remote and your push rights, then publish again"
        )
        raise PublishError(f"git push to {target} failed: {detail}", hint=hint)
    git.run("update-ref", f"refs/remotes/{target.remote}/{target.branch}", report.commit)
    report.pushed = True
    return report


HIDDEN = (":(exclude,glob)**/.*", ":(exclude,glob)**/.*/**")
"""Pathspecs that leave out hidden files and folders (the build's lock and temporary
folder, an editor's or a user's dotfile): not part of the site, as S3 leaves them out
(:func:`dashsite.publish.plan.walk_site`). The branch's own ``.nojekyll`` is added apart."""


def pull_gh_pages(site: Path, root: Path, target: GitPagesTarget) -> StagedSite:
    """Check the published branch out into a new folder beside ``site``."""
    git = open_repository(root, target, "pull")
    commit = fetch_branch(git, target)
    if commit is None:
        raise NothingPublished(
            f"nothing is published on {target}",
            hint="build and publish first, or check --remote/--branch",
        )
    staged = StagedSite(site)
    staged.start_empty()
    try:
        with tempfile.TemporaryDirectory(prefix="dashsite-git-") as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            git.run("read-tree", commit, env=env)
            git.run("checkout-index", "--all", "--force", f"--prefix={staged.path}/", env=env)
    except BaseException:
        staged.abort()
        raise
    return staged
