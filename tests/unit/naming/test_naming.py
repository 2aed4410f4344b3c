"""Naming rules against the original's executed examples: names, legacy names, hostnames,
reset volumes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from containai_rpc.core.naming import (
    MAX_COLLISION_SUFFIX,
    collision_candidate,
    container_name,
    hostname_for,
    is_valid_container_name,
    is_valid_volume_name,
    legacy_container_name,
    reset_volume_name,
    sanitize_name_part,
    validate_container_name,
    validate_volume_name,
)
from containai_rpc.errors import DomainError

TS = "1700000000123456789"  # the spec's stub timestamp
GENERATED = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]")


@pytest.mark.parametrize(
    ("text", "fallback", "expected"),
    [
        ("My.Project", "repo", "myproject"),
        ("my_project", "repo", "myproject"),
        ("fix_bug_123", "branch", "fixbug123"),
        ("release/v1.2.3", "branch", "release-v123"),
        ("a--b---c", "repo", "a-b-c"),
        ("--a--", "repo", "a"),
        ("___", "repo", "repo"),
        ("🚀", "branch", "branch"),
        ("", "branch", "branch"),
        ("İstanbul", "repo", "istanbul"),  # UTF-8 locale lowercasing (§1.4)
        ("\u212aelvin", "repo", "kelvin"),  # Kelvin sign
        ("Cafe\u0301", "repo", "cafe"),  # NFD
        ("Caf\u00e9", "repo", "caf"),  # NFC
        ("a b@c+d", "repo", "abcd"),
    ],
)
def test_sanitize_name_part(text: str, fallback: str, expected: str) -> None:
    assert sanitize_name_part(text, fallback) == expected


@pytest.mark.parametrize(
    ("repo", "branch", "expected"),
    [
        # §1.1 executed examples
        ("MyRepo", "feature/One", "myrepo-one"),
        ("my-app", "feat/ui/button", "my-app-button"),
        ("NoGit", "nogit", "nogit-nogit"),
        ("___", "___", "repo-branch"),
        ("MyRepo", "detached", "myrepo-detached"),
        ("r" * 40, "b" * 40, "rrrrrrrrrrr-bbbbbbbbbbbb"),
        ("abcdefghijklmnopqr-stuvwxyz", "main", "abcdefghijklmnopqr-main"),
        ("myapp", "feat/🚀-launch", "myapp-launch"),
        ("myapp", "feat/🚀", "myapp-branch"),
        (
            "super-long-repository-name",
            "feature/another-long-branch-name",
            "super-long-another-long",
        ),
        ("myapp", "feature/oauth", "myapp-oauth"),
        ("proj", "feature/a/b/c", "proj-c"),
        ("app", "release/v1.2.3", "app-v123"),
        ("İstanbul", "main", "istanbul-main"),
        ("Cafe\u0301", "nogit", "cafe-nogit"),
        ("Caf\u00e9", "nogit", "caf-nogit"),
        ("", "nogit", "repo-nogit"),  # the workspace "/"
        ("r" * 255, "main", "rrrrrrrrrrrrrrrrrrr-main"),
        ("x", "y" * 30, "x-yyyyyyyyyyyyyyyyyyyyyy"),
        ("feature", "feature/", "feature-feature"),  # empty leaf → whole token
    ],
)
def test_container_name(repo: str, branch: str, expected: str) -> None:
    assert container_name(repo, branch) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("my_workspace-main", "my-workspace-main"),
        ("app@v2.0", "appv20"),
        ("___", "container"),
        ("myrepo-one", "myrepo-one"),
        ("Foo__Bar", "foo-bar"),
        ("-x-", "x"),
        ("a" * 62 + "_" + "b" * 10, "a" * 62),  # cut to 63, trailing dash stripped
        ("c" * 70, "c" * 63),
    ],
)
def test_hostname_for(name: str, expected: str) -> None:
    assert hostname_for(name) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/home/user/projects/myapp", "containai-58f3ffb5b0e6"),
        ("/home/user/projects/myapp/", "containai-1af763f833f2"),  # trailing slash differs
    ],
)
def test_legacy_container_name(path: str, expected: str) -> None:
    assert legacy_container_name(path) == expected


@pytest.mark.parametrize(
    ("base", "n", "expected"),
    [
        ("myapp-nogit", 2, "myapp-nogit-2"),
        ("rrrrrrrrrrrrrrrrrr-nogit", 2, "rrrrrrrrrrrrrrrrrr-nog-2"),
        ("myapp-nogit", 10, "myapp-nogit-10"),
        ("rrrrrrrrrrrrrrrrrr-nogit", 99, "rrrrrrrrrrrrrrrrrr-no-99"),
        ("abcdefghijklmnopqrstu-xy", 2, "abcdefghijklmnopqrstu-2"),  # cut leaves "-"
    ],
)
def test_collision_candidate(base: str, n: int, expected: str) -> None:
    assert collision_candidate(base, n) == expected


@pytest.mark.parametrize("n", [0, 1, MAX_COLLISION_SUFFIX + 1])
def test_collision_candidate_rejects_out_of_range_suffix(n: int) -> None:
    with pytest.raises(ValueError, match="collision suffix"):
        collision_candidate("myapp-nogit", n)


@pytest.mark.parametrize(
    ("repo", "branch", "expected"),
    [
        ("myapp", "feature/oauth", f"myapp-feature-oauth-{TS}"),
        ("MyRepo", "feature/One", f"myrepo-feature-one-{TS}"),
        ("My.Project", "release/v1.2.3", f"my-project-release-v1-2-3-{TS}"),
        ("my_project", "fix_bug_123", f"my-project-fix-bug-123-{TS}"),
        ("İstanbul", "main", f"stanbul-main-{TS}"),  # ASCII-only lowercase
        ("\u212aelvin", "main", f"elvin-main-{TS}"),
        ("Cafe\u0301", "nogit", f"cafe-nogit-{TS}"),
        ("Caf\u00e9", "nogit", f"caf-nogit-{TS}"),
        ("myapp", "feat/🚀-launch", f"myapp-feat-launch-{TS}"),
        ("myapp", "feat/🚀", f"myapp-feat-{TS}"),
        ("___", "___", f"workspace-unknown-{TS}"),
        ("/", "nogit", f"workspace-nogit-{TS}"),
        ("", "", f"workspace-unknown-{TS}"),
        ("MyRepo", "4af6e6f", f"myrepo-4af6e6f-{TS}"),
        # exactly 255 chars: kept as the original makes it
        ("a" * 230, "main", f"{'a' * 230}-main-{TS}"),
        # longer: the original would cut the timestamp; we shorten the longer part
        ("a" * 231, "main", f"{'a' * 230}-main-{TS}"),
        ("r" * 255, "main", f"{'r' * 230}-main-{TS}"),
        ("myapp", "b" * 300, f"myapp-{'b' * 229}-{TS}"),
        ("r" * 200, "b" * 200, f"{'r' * 117}-{'b' * 117}-{TS}"),
        ("ab-" * 100, "main-x", f"{'ab-' * 75}ab-main-x-{TS}"),  # cut lands on a "-"
    ],
)
def test_reset_volume_name(repo: str, branch: str, expected: str) -> None:
    name = reset_volume_name(repo, branch, TS)
    assert name == expected
    assert len(name) <= 255
    assert is_valid_volume_name(name)


def test_reset_volume_name_differs_per_timestamp_even_when_long() -> None:
    first = reset_volume_name("r" * 255, "main", "1700000000123456789")
    second = reset_volume_name("r" * 255, "main", "1700000000123456790")
    assert first != second
    assert (len(first), len(second)) == (255, 255)


@pytest.mark.parametrize("timestamp", ["", "12a", "-1", "1" * 33, "١٢٣"])
def test_reset_volume_name_rejects_bad_timestamp(timestamp: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        reset_volume_name("myapp", "main", timestamp)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("ab", True),
        ("a1", True),
        ("My_app.v2-x", True),
        ("A" * 128, True),
        ("A" * 129, False),
        ("a", False),
        ("", False),
        ("-ab", False),
        ("_ab", False),
        (".ab", False),
        ("a b", False),
        ("a/b", False),
        ("ab:c", False),
        ("ab\n", False),
        ("é1", False),
    ],
)
def test_is_valid_container_name(name: str, valid: bool) -> None:
    assert is_valid_container_name(name) is valid


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("a", True),
        ("containai-data", True),
        ("A_b.c-d", True),
        ("x" * 255, True),
        ("x" * 256, False),
        ("", False),
        ("-a", False),
        ("a b", False),
        ("a\n", False),
        ("ä", False),
    ],
)
def test_is_valid_volume_name(name: str, valid: bool) -> None:
    assert is_valid_volume_name(name) is valid


def test_validate_container_name() -> None:
    assert validate_container_name("myapp-main") == "myapp-main"
    with pytest.raises(DomainError) as info:
        validate_container_name("a b")
    assert info.value.reason == "invalidName"
    assert info.value.message == (
        "Invalid container name: 'a b' "
        "(must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ and be at most 128 characters)"
    )


def test_validate_volume_name() -> None:
    assert validate_volume_name("containai-data") == "containai-data"
    with pytest.raises(DomainError) as info:
        validate_volume_name("bad/vol")
    assert info.value.reason == "invalidName"
    assert info.value.message == (
        "Invalid volume name: 'bad/vol' "
        "(must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be 1-255 characters)"
    )


def test_validation_message_escapes_and_cuts_the_value() -> None:
    with pytest.raises(DomainError) as info:
        validate_volume_name("x\n" + "y" * 100)
    assert info.value.message.startswith(f"Invalid volume name: 'x\\n{'y' * 62}…' (")


@given(st.text(), st.text())
def test_generated_names_are_always_valid(repo: str, branch: str) -> None:
    name = container_name(repo, branch)
    assert GENERATED.fullmatch(name)
    assert 3 <= len(name) <= 24
    assert "--" not in name
    assert hostname_for(name) == name
    assert is_valid_container_name(name)
    assert all(
        is_valid_container_name(c) and len(c) <= 24
        for c in (collision_candidate(name, 2), collision_candidate(name, 99))
    )


@given(st.text(), st.text(), st.from_regex(r"[0-9]{1,32}", fullmatch=True))
def test_reset_volume_names_are_valid_and_keep_the_timestamp(
    repo: str, branch: str, timestamp: str
) -> None:
    name = reset_volume_name(repo, branch, timestamp)
    assert is_valid_volume_name(name)
    assert name.endswith(f"-{timestamp}")
    assert "--" not in name
