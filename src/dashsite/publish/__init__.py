"""Publishing around the build: where a site goes (S3, GitHub Pages) and back."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dashsite.core.errors import PublishError

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True, slots=True)
class S3Target:
    """``s3://bucket/prefix``: the prefix has no leading or trailing slash."""

    bucket: str
    prefix: str = ""

    def key(self, relative: str) -> str:
        """The object key of a site-relative path."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


@dataclass(frozen=True, slots=True)
class GitPagesTarget:
    """``gh-pages``: a branch of a git remote."""

    remote: str = "origin"
    branch: str = "gh-pages"

    def __str__(self) -> str:
        return f"{self.remote}/{self.branch}"


def parse_target(
    text: str, *, remote: str = "origin", branch: str = "gh-pages"
) -> S3Target | GitPagesTarget:
    """``s3://bucket/prefix`` or ``gh-pages``; anything else is refused."""
    if text.startswith("s3://"):
        bucket, _, prefix = text[len("s3://") :].partition("/")
        prefix = prefix.strip("/")
        if not _BUCKET.fullmatch(bucket):
            raise PublishError(
                f"'{bucket}' is not a valid S3 bucket name", hint="use s3://bucket/prefix"
            )
        if any(part in {"", ".", ".."} for part in prefix.split("/")) and prefix:
            raise PublishError(
                f"the prefix '{prefix}' has empty, '.' or '..' parts",
                hint="use s3://bucket/some/prefix",
            )
        return S3Target(bucket, prefix)
    if text == "gh-pages":
        return GitPagesTarget(remote, branch)
    raise PublishError(
        f"unknown publish target '{text}'", hint="use s3://bucket/prefix or gh-pages"
    )
