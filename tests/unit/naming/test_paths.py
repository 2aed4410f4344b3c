"""Workspace paths and git state on real directories and repositories, as the original sees them."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from containai_rpc.core.naming import hostname_for
from containai_rpc.errors import DomainError
from containai_rpc.workspace import paths
from containai_rpc.workspace.paths import (
    branch_token,
    normalize_path,
    reset_branch,
    workspace_container_name,
    workspace_reset_volume_name,
)

GitRunner = Callable[..., str]
RepoMaker = Callable[..., Path]
TS = "1700000000123456789"
HEAD_SHORT_SHA = "7724198"  # the fixture's single commit (fixed tree, identity and date)


@pytest.mark.parametrize(
    ("dir_name", "branch", "expected_name", "expected_volume"),
    [
        ("myapp", "feature/oauth", "myapp-oauth", f"myapp-feature-oauth-{TS}"),
        ("MyRepo", "feature/One", "myrepo-one", f"myrepo-feature-one-{TS}"),
        ("my-app", "feat/ui/button", "my-app-button", f"my-app-feat-ui-button-{TS}"),
        ("proj", "feature/a/b/c", "proj-c", f"proj-feature-a-b-c-{TS}"),
        ("myapp", "feat/🚀-launch", "myapp-launch", f"myapp-feat-launch-{TS}"),
        ("myapp", "feat/🚀", "myapp-branch", f"myapp-feat-{TS}"),
        ("My.Project", "release/v1.2.3", "myproject-v123", f"my-project-release-v1-2-3-{TS}"),
        ("my_project", "fix_bug_123", "myproject-fixbug123", f"my-project-fix-bug-123-{TS}"),
        ("İstanbul", "main", "istanbul-main", f"stanbul-main-{TS}"),
        ("___", "___", "repo-branch", f"workspace-unknown-{TS}"),
        (
            "abcdefghijklmnopqr-stuvwxyz",
            "main",
            "abcdefghijklmnopqr-main",
            f"abcdefghijklmnopqr-stuvwxyz-main-{TS}",
        ),
        ("r" * 40, "b" * 40, "rrrrrrrrrrr-bbbbbbbbbbbb", f"{'r' * 40}-{'b' * 40}-{TS}"),
        (
            "super-long-repository-name",
            "feature/another-long-branch-name",
            "super-long-another-long",
            f"super-long-repository-name-feature-another-long-branch-name-{TS}",
        ),
        ("app", "detached", "app-detached", f"app-detached-{TS}"),  # a real branch "detached"
    ],
)
def test_repo_on_branch(
    make_repo: RepoMaker, dir_name: str, branch: str, expected_name: str, expected_volume: str
) -> None:
    workspace = normalize_path(make_repo(dir_name, branch=branch))
    assert branch_token(workspace) == branch
    assert reset_branch(workspace) == branch
    assert workspace_container_name(workspace) == expected_name
    assert hostname_for(expected_name) == expected_name
    assert workspace_reset_volume_name(workspace, TS) == expected_volume


def test_detached_head(make_repo: RepoMaker, git: GitRunner) -> None:
    repo = make_repo("MyRepo")
    git(repo, "checkout", "-q", "--detach")
    workspace = normalize_path(repo)
    assert branch_token(workspace) == "detached"
    assert reset_branch(workspace) == HEAD_SHORT_SHA
    assert workspace_container_name(workspace) == "myrepo-detached"
    assert workspace_reset_volume_name(workspace, TS) == f"myrepo-{HEAD_SHORT_SHA}-{TS}"


def test_unborn_branch(make_repo: RepoMaker) -> None:
    workspace = normalize_path(make_repo("fresh", branch="main", commit=False))
    assert branch_token(workspace) == "detached"
    assert reset_branch(workspace) == "nogit"
    assert workspace_container_name(workspace) == "fresh-detached"
    assert workspace_reset_volume_name(workspace, TS) == f"fresh-nogit-{TS}"


def test_not_a_repo(git_env: Path) -> None:
    (git_env / "NoGit").mkdir()
    workspace = normalize_path(git_env / "NoGit")
    assert branch_token(workspace) == "nogit"
    assert reset_branch(workspace) == "nogit"
    assert workspace_container_name(workspace) == "nogit-nogit"
    assert workspace_reset_volume_name(workspace, TS) == f"nogit-nogit-{TS}"


def test_subdirectory_takes_the_repo_branch_and_its_own_name(
    make_repo: RepoMaker, git: GitRunner
) -> None:
    repo = make_repo("outer")
    git(repo, "checkout", "-q", "-b", "feature/x")
    (repo / "src").mkdir()
    workspace = normalize_path(repo / "src")
    assert workspace_container_name(workspace) == "src-x"
    assert workspace_reset_volume_name(workspace, TS) == f"src-feature-x-{TS}"


def test_linked_worktree_uses_its_own_name_and_branch(
    make_repo: RepoMaker, git: GitRunner, git_env: Path
) -> None:
    repo = make_repo("mainrepo")
    git(repo, "worktree", "add", "-q", "-b", "feature/wt", str(git_env / "wt-dir"))
    workspace = normalize_path(git_env / "wt-dir")
    assert workspace_container_name(workspace) == "wt-dir-wt"
    assert workspace_reset_volume_name(workspace, TS) == f"wt-dir-feature-wt-{TS}"
    assert workspace_container_name(normalize_path(repo)) == "mainrepo-main"


def test_inside_dot_git_counts_as_a_repo_like_the_original(make_repo: RepoMaker) -> None:
    # `--is-inside-work-tree` prints "false" there but succeeds, which is all the original checks.
    workspace = normalize_path(make_repo("app") / ".git")
    assert branch_token(workspace) == "main"
    assert workspace_container_name(workspace) == "git-main"


def test_symlinked_workspace_is_named_after_its_target(make_repo: RepoMaker, git_env: Path) -> None:
    target = make_repo("target")
    (git_env / "alias").symlink_to(target)
    workspace = normalize_path(git_env / "alias")
    assert workspace == os.path.realpath(target)
    assert workspace_container_name(workspace) == "target-main"


@pytest.mark.parametrize(
    ("raw_name", "expected_name", "expected_volume"),
    [
        (b"Cafe\xcc\x81", "cafe-nogit", f"cafe-nogit-{TS}"),  # NFD: e + U+0301
        (b"Caf\xc3\xa9", "caf-nogit", f"caf-nogit-{TS}"),  # NFC: U+00E9
        (b"\xc3\xbc" * 127 + b"x", "x-nogit", f"x-nogit-{TS}"),  # 255 bytes
        # not UTF-8: deleted like the original's byte-wise `tr`; for the volume GNU sed would
        # keep the byte and produce an invalid name, we replace it like any other character
        (b"bad\xffname", "badname-nogit", f"bad-name-nogit-{TS}"),
    ],
)
def test_names_come_from_the_exact_bytes_on_disk(
    git_env: Path, raw_name: bytes, expected_name: str, expected_volume: str
) -> None:
    os.mkdir(os.fsencode(git_env) + b"/" + raw_name)
    assert os.listdir(os.fsencode(git_env)) == [raw_name]
    workspace = normalize_path(os.fsdecode(os.fsencode(git_env) + b"/" + raw_name))
    assert workspace_container_name(workspace) == expected_name
    assert workspace_reset_volume_name(workspace, TS) == expected_volume


def test_255_byte_directory_name(make_repo: RepoMaker) -> None:
    workspace = normalize_path(make_repo("r" * 255))
    assert workspace_container_name(workspace) == "rrrrrrrrrrrrrrrrrrr-main"
    first = workspace_reset_volume_name(workspace)
    second = workspace_reset_volume_name(workspace)
    assert re.fullmatch(r"r{230}-main-[0-9]{19}", first)
    assert re.fullmatch(r"r{230}-main-[0-9]{19}", second)
    assert first != second
    assert workspace_reset_volume_name(workspace, TS) == f"{'r' * 230}-main-{TS}"


def test_git_missing_means_nogit(
    make_repo: RepoMaker, git_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = str(make_repo("app"))
    monkeypatch.setenv("PATH", str(git_env))  # no git here
    assert branch_token(repo) == "nogit"
    assert reset_branch(repo) == "nogit"
    assert workspace_container_name(repo) == "app-nogit"


def test_git_dir_pointing_elsewhere_means_nogit(
    make_repo: RepoMaker, git_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = str(make_repo("app"))
    monkeypatch.setenv("GIT_DIR", str(git_env / "missing.git"))
    assert branch_token(repo) == "nogit"
    assert reset_branch(repo) == "nogit"


def test_hanging_git_means_nogit(
    make_repo: RepoMaker, git_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = str(make_repo("app"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_git = bin_dir / "git"
    fake_git.write_text("#!/bin/sh\nexec sleep 30\n")
    fake_git.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(paths, "GIT_TIMEOUT_SECONDS", 0.2)
    assert branch_token(repo) == "nogit"


@pytest.fixture
def tree(git_env: Path) -> Path:
    """ws/real/sub, ws/real/y, ws/x, and ws/link → ws/real/sub."""
    (git_env / "real" / "sub").mkdir(parents=True)
    (git_env / "real" / "y").mkdir()
    (git_env / "x").mkdir()
    (git_env / "link").symlink_to(git_env / "real" / "sub")
    return Path(os.path.realpath(git_env))


def test_normalize_absolute_and_trailing_slash(tree: Path) -> None:
    assert normalize_path(str(tree / "x")) == str(tree / "x")
    assert normalize_path(f"{tree}/x/") == str(tree / "x")
    assert normalize_path(tree / "x") == str(tree / "x")
    assert normalize_path(f"{tree}/link") == str(tree / "real" / "sub")


def test_normalize_expands_home(git_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = git_env / "me"
    (home / "proj").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    assert normalize_path("~") == os.path.realpath(home)
    assert normalize_path("~/proj") == os.path.realpath(home / "proj")


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("x", "x"),
        ("link", "real/sub"),
        ("link/..", ""),  # `..` applied to the path as written, like `cd`
        ("link/../x", "x"),
        ("link/../y", "real/y"),  # not there as written: physical, like `cd`
        ("./real//sub/", "real/sub"),
    ],
)
def test_normalize_relative_to_given_cwd(tree: Path, relative: str, expected: str) -> None:
    assert normalize_path(relative, cwd=str(tree)) == str(tree / expected)


def test_normalize_relative_uses_the_shells_logical_cwd(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree / "link")
    monkeypatch.setenv("PWD", str(tree / "link"))
    assert normalize_path("../x") == str(tree / "x")
    assert normalize_path(".") == str(tree / "real" / "sub")


@pytest.mark.parametrize("pwd", [None, "relative/dir", "/nonexistent/dir"])
def test_normalize_relative_ignores_missing_or_stale_pwd(
    tree: Path, monkeypatch: pytest.MonkeyPatch, pwd: str | None
) -> None:
    monkeypatch.chdir(tree / "link")
    if pwd is None:
        monkeypatch.delenv("PWD", raising=False)
    else:
        monkeypatch.setenv("PWD", pwd)
    assert normalize_path("..") == str(tree / "real")


def test_normalize_after_the_cwd_was_deleted(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "gone").mkdir()
    monkeypatch.chdir(tree / "gone")
    monkeypatch.delenv("PWD", raising=False)
    (tree / "gone").rmdir()
    assert normalize_path(str(tree / "x")) == str(tree / "x")
    with pytest.raises(DomainError) as info:
        normalize_path("x")
    assert (info.value.reason, info.value.message) == (
        "workspaceNotFound",
        "Workspace path does not exist: x",
    )


@pytest.mark.parametrize("missing", ["nope", "x/nope", "~/nope"])
def test_normalize_missing_path(tree: Path, missing: str) -> None:
    with pytest.raises(DomainError) as info:
        normalize_path(missing, cwd=str(tree))
    assert info.value.reason == "workspaceNotFound"
    assert info.value.message == f"Workspace path does not exist: {missing}"


def test_normalize_file_is_not_a_workspace(tree: Path) -> None:
    (tree / "file.txt").write_text("x")
    with pytest.raises(DomainError) as info:
        normalize_path(str(tree / "file.txt"))
    assert (info.value.reason, info.value.message) == (
        "workspaceNotFound",
        f"Workspace path does not exist: {tree}/file.txt",
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "Workspace path is empty"),
        ("a\0b", "Invalid workspace path (contains NUL or a line break): 'a\\x00b'"),
        ("a\nb", "Invalid workspace path (contains NUL or a line break): 'a\\nb'"),
        ("a\rb", "Invalid workspace path (contains NUL or a line break): 'a\\rb'"),
    ],
)
def test_normalize_rejects_unusable_paths(bad: str, message: str) -> None:
    with pytest.raises(DomainError) as info:
        normalize_path(bad)
    assert (info.value.reason, info.value.message) == ("invalidPath", message)
