"""Settings and data-volume resolution: the original's order (option, env, workspace state,
config files), repo-local files, validation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.workspace.config import (
    DEFAULT_IMAGE,
    DEFAULT_VOLUME,
    Settings,
    config_get,
    load_settings,
    resolve_data_volume,
)
from containai_rpc.workspace.state import update_workspace_state, user_config_path

NO_ENV: dict[str, str] = {}


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own HOME/XDG per test; the process env is cleared of the variables under test."""
    (tmp_path / ".git").mkdir()  # the repo-local search never leaves tmp_path
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for name in (
        "CONTAINAI_DATA_VOLUME",
        "CONTAINAI_CONTEXT",
        "CONTAINAI_SECURE_ENGINE_CONTEXT",
        "CONTAINAI_ALLOW_REDUCED_ISOLATION",
        "CONTAINAI_IMAGE",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository (with `.git`) holding a nested workspace directory."""
    root = tmp_path / "src" / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "pkg" / "sub").mkdir(parents=True)
    return root


def write_user(text: str) -> Path:
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_repo(root: Path, text: str) -> Path:
    path = root / ".containai" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def resolve(workspace: Path | str, **kwargs: object) -> tuple[str, str]:
    """Resolve, and check that `config get data_volume` reports exactly the same."""
    env = kwargs.get("env", NO_ENV)
    result = resolve_data_volume(str(workspace), env=env, explicit=kwargs.get("explicit"))
    if "explicit" not in kwargs:
        assert config_get("data_volume", str(workspace), env=env) == result
    return result


# --- data volume: each step of §3.1 -----------------------------------------------------


def test_default_when_nothing_is_configured(tmp_path: Path) -> None:
    assert resolve(tmp_path / "ws") == (DEFAULT_VOLUME, "default")


def test_explicit_beats_everything(tmp_path: Path) -> None:
    update_workspace_state(str(tmp_path), data_volume="from-state")
    env = {"CONTAINAI_DATA_VOLUME": "from-env"}
    assert resolve(tmp_path, explicit="mine", env=env) == ("mine", "cli")


@pytest.mark.parametrize("bad", ["", "-dash", "has space", "x" * 256, "ü"])
def test_explicit_invalid(tmp_path: Path, bad: str) -> None:
    with pytest.raises(DomainError) as err:
        resolve_data_volume(str(tmp_path), explicit=bad, env=NO_ENV)
    assert err.value.reason == "invalidName"
    assert err.value.message.startswith("Invalid volume name: ")


def test_env_beats_state_and_config(tmp_path: Path) -> None:
    update_workspace_state(str(tmp_path), data_volume="from-state")
    assert resolve(tmp_path, env={"CONTAINAI_DATA_VOLUME": "from-env"}) == ("from-env", "env")


def test_env_invalid_and_env_empty(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as err:
        resolve(tmp_path, env={"CONTAINAI_DATA_VOLUME": "bad name"})
    assert err.value.reason == "invalidName"
    assert "Invalid volume name in CONTAINAI_DATA_VOLUME: 'bad name'" in err.value.message
    assert resolve(tmp_path, env={"CONTAINAI_DATA_VOLUME": ""}) == (DEFAULT_VOLUME, "default")


def test_env_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTAINAI_DATA_VOLUME", "proc-env")
    assert resolve_data_volume(str(tmp_path)) == ("proc-env", "env")


def test_state_of_the_exact_path_beats_repo_local(repo: Path) -> None:
    # The original's `config get` skips state when a repo-local file exists; run does not.
    write_repo(repo, '[agent]\ndata_volume = "repo-vol"\n')
    update_workspace_state(str(repo), data_volume="state-vol")
    assert resolve(repo) == ("state-vol", f"workspace:{repo}")


def test_invalid_state_is_skipped_with_a_warning(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_repo(repo, '[agent]\ndata_volume = "repo-vol"\n')
    update_workspace_state(str(repo), data_volume="bad\x1bname")
    with caplog.at_level(logging.WARNING):
        assert resolve_data_volume(str(repo), env=NO_ENV) == ("repo-vol", "repo-local")
    assert "Invalid volume name in workspace state: 'bad\\x1bname', skipping" in caplog.text


def test_invalid_state_then_fails_as_config_when_the_user_config_is_the_config(
    tmp_path: Path,
) -> None:
    # Same as the original: step 3 skips it, step 4 reads the same table as config.
    update_workspace_state(str(tmp_path), data_volume="bad name")
    with pytest.raises(DomainError) as err:
        resolve(tmp_path)
    assert err.value.reason == "invalidName"
    assert "Invalid volume name in config: 'bad name'" in err.value.message
    assert err.value.details["file"] == str(user_config_path())


def test_empty_state_volume_is_ignored(tmp_path: Path) -> None:
    update_workspace_state(str(tmp_path), data_volume="", container_name="x")
    assert resolve(tmp_path) == (DEFAULT_VOLUME, "default")


def test_parent_workspace_table_provides_the_volume(tmp_path: Path) -> None:
    update_workspace_state(str(tmp_path / "proj"), data_volume="parent-vol")
    assert resolve(tmp_path / "proj" / "sub" / "dir") == (
        "parent-vol",
        f"workspace:{tmp_path}/proj",
    )


def test_longest_prefix_wins_segment_wise(tmp_path: Path) -> None:
    write_user(
        f'[workspace."{tmp_path}"]\ndata_volume = "outer"\n'
        f'[workspace."{tmp_path}/a/"]\ndata_volume = "inner"\n'
        f'[workspace."{tmp_path}/ab"]\ndata_volume = "sibling"\n'
        '[workspace."relative/a"]\ndata_volume = "relative"\n'
    )
    assert resolve(tmp_path / "a" / "b") == ("inner", f"workspace:{tmp_path}/a/")
    assert resolve(tmp_path / "abc") == ("outer", f"workspace:{tmp_path}")
    assert resolve(tmp_path / "ab") == ("sibling", f"workspace:{tmp_path}/ab")


def test_longest_match_without_a_volume_falls_back_to_agent(tmp_path: Path) -> None:
    write_user(
        '[agent]\ndata_volume = "agent-vol"\n'
        f'[workspace."{tmp_path}"]\ndata_volume = "outer"\n'
        f'[workspace."{tmp_path}/a"]\ncontainer_name = "a"\n'
    )
    assert resolve(tmp_path / "a" / "b") == ("agent-vol", "user-global")


def test_symlinked_key_matches_the_resolved_workspace(tmp_path: Path) -> None:
    (tmp_path / "real" / "proj").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    write_user(f'[workspace."{tmp_path}/link/proj"]\ndata_volume = "linked"\n')
    assert resolve(tmp_path / "real" / "proj" / "x") == (
        "linked",
        f"workspace:{tmp_path}/link/proj",
    )


def test_user_global_agent_volume(tmp_path: Path) -> None:
    write_user('[agent]\ndata_volume = "agent-vol"\n')
    assert resolve(tmp_path / "ws") == ("agent-vol", "user-global")


def test_agent_as_a_plain_name_has_no_volume(tmp_path: Path) -> None:
    write_user('agent = "claude"\n')  # tolerated by the original
    assert resolve(tmp_path / "ws") == (DEFAULT_VOLUME, "default")


def test_repo_local_found_from_a_subdirectory(repo: Path) -> None:
    write_user('[agent]\ndata_volume = "user-vol"\n')
    write_repo(repo, '[agent]\ndata_volume = "repo-vol"\n')
    assert resolve(repo / "pkg" / "sub") == ("repo-vol", "repo-local")


def test_repo_local_workspace_table_longest_prefix(repo: Path) -> None:
    write_repo(
        repo,
        f'[agent]\ndata_volume = "repo-vol"\n[workspace."{repo}/pkg"]\ndata_volume = "pkg-vol"\n',
    )
    assert resolve(repo / "pkg" / "sub") == ("pkg-vol", "repo-local")
    assert resolve(repo) == ("repo-vol", "repo-local")


def test_repo_local_without_volume_falls_back_to_user_config(repo: Path) -> None:
    write_repo(repo, '[container]\nmemory = "2g"\n')
    write_user(f'[agent]\ndata_volume = "user-vol"\n[workspace."{repo}"]\ncontainer_name = "r"\n')
    assert resolve(repo / "pkg") == ("user-vol", "user-global")
    update_workspace_state(str(repo), data_volume="state-vol")
    assert resolve(repo / "pkg") == ("state-vol", f"workspace:{repo}")


def test_search_stops_at_the_git_root(repo: Path) -> None:
    write_repo(repo.parent, '[agent]\ndata_volume = "above-the-repo"\n')
    assert resolve(repo / "pkg") == (DEFAULT_VOLUME, "default")
    assert resolve(repo.parent / "elsewhere") == ("above-the-repo", "repo-local")


def test_git_file_also_stops_the_search(repo: Path) -> None:
    (repo / ".git").rmdir()
    (repo / ".git").write_text("gitdir: /somewhere/else\n")
    write_repo(repo.parent, '[agent]\ndata_volume = "above-the-repo"\n')
    assert resolve(repo / "pkg") == (DEFAULT_VOLUME, "default")


def test_the_filesystem_root_is_never_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real_is_file = Path.is_file

    def is_file(self: Path) -> bool:
        checked.append(str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    resolve_data_volume("/nonexistent-containai-test/a", env=NO_ENV)
    assert "/nonexistent-containai-test/a/.containai/config.toml" in checked
    assert "/.containai/config.toml" not in checked


def test_unreadable_directory_on_the_way_ends_the_search(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_user('[agent]\ndata_volume = "user-vol"\n')
    write_repo(repo, '[agent]\ndata_volume = "repo-vol"\n')
    real_is_file = Path.is_file

    def is_file(self: Path) -> bool:
        if self.parent.parent == repo / "pkg":  # as if pkg/ were not searchable
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    assert resolve(repo / "pkg") == ("user-vol", "user-global")


@pytest.mark.parametrize(
    ("where", "text", "key"),
    [
        ("repo", '[agent]\ndata_volume = "bad name"\n', "agent.data_volume"),
        ("repo", '[workspace."{repo}"]\ndata_volume = 5\n', 'workspace."{repo}".data_volume'),
        ("user", '[agent]\ndata_volume = "-bad"\n', "agent.data_volume"),
    ],
)
def test_invalid_config_volume(repo: Path, where: str, text: str, key: str) -> None:
    path = (write_repo if where == "repo" else lambda _r, t: write_user(t))(
        repo, text.format(repo=repo)
    )
    with pytest.raises(DomainError) as err:
        resolve(repo)
    assert err.value.reason == "invalidName"
    assert err.value.message.startswith("Invalid volume name in config: ")
    assert err.value.details == {"file": str(path), "key": key.format(repo=repo)}


def test_broken_repo_local_file_is_config_invalid(repo: Path) -> None:
    path = write_repo(repo, "[agent\n")
    with pytest.raises(DomainError) as err:
        resolve(repo)
    assert err.value.reason == "configInvalid"
    assert str(path) in err.value.message
    assert path.read_text() == "[agent\n"


def test_broken_user_config_is_state_file_invalid(tmp_path: Path) -> None:
    path = write_user("not toml at all\n")
    for call in (
        lambda: resolve_data_volume(str(tmp_path), env=NO_ENV),
        lambda: load_settings(env=NO_ENV),
    ):
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.reason == "stateFileInvalid"
        assert str(path) in err.value.message


# --- settings ----------------------------------------------------------------------------


def test_settings_defaults() -> None:
    assert load_settings(env=NO_ENV) == Settings(
        ssh_port_range=(2300, 2500),
        ssh_forward_agent=False,
        ssh_local_forwards=[],
        context_name=None,
        allow_reduced_isolation=False,
        image=DEFAULT_IMAGE,
        memory=None,
        cpus=None,
        contexts=[],
    )


FULL = """\
# everything set
[ssh]
port_range_start = 3000
port_range_end = 3010
forward_agent = true
local_forward = ["8080:localhost:8080", "5432:db.internal:5432"]

[secure_engine]
context_name = "my-ctx_1"

[isolation]
allow_reduced = true

[image]
name = "registry.local:5000/containai:dev"

[container]
memory = "4.5g"
cpus = 2

[engine]
contexts = ["remote-a", "remote_b"]
"""


def test_settings_from_the_user_config() -> None:
    write_user(FULL)
    assert load_settings(env=NO_ENV) == Settings(
        ssh_port_range=(3000, 3010),
        ssh_forward_agent=True,
        ssh_local_forwards=["8080:localhost:8080", "5432:db.internal:5432"],
        context_name="my-ctx_1",
        allow_reduced_isolation=True,
        image="registry.local:5000/containai:dev",
        memory="4.5g",
        cpus=2.0,
        contexts=["remote-a", "remote_b"],
    )


def test_env_overrides_the_user_config() -> None:
    write_user(FULL)
    settings = load_settings(
        env={
            "CONTAINAI_CONTEXT": "env-ctx",
            "CONTAINAI_SECURE_ENGINE_CONTEXT": "ignored-ctx",
            "CONTAINAI_ALLOW_REDUCED_ISOLATION": "0",
            "CONTAINAI_IMAGE": "containai:env",
        }
    )
    assert settings.context_name == "env-ctx"
    assert settings.allow_reduced_isolation is False
    assert settings.image == "containai:env"
    assert load_settings(env={"CONTAINAI_SECURE_ENGINE_CONTEXT": "se-ctx"}).context_name == "se-ctx"


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("TRUE", True), ("yes", True), ("no", False), ("", False)]
)
def test_allow_reduced_isolation_from_env(value: str, expected: bool) -> None:
    env = {"CONTAINAI_ALLOW_REDUCED_ISOLATION": value}
    assert load_settings(env=env).allow_reduced_isolation is expected


def test_settings_read_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTAINAI_ALLOW_REDUCED_ISOLATION", "1")
    assert load_settings().allow_reduced_isolation is True


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONTAINAI_ALLOW_REDUCED_ISOLATION", "maybe"),
        ("CONTAINAI_CONTEXT", "bad/ctx"),
        ("CONTAINAI_SECURE_ENGINE_CONTEXT", "c" * 65),
        ("CONTAINAI_IMAGE", "has space:1"),
    ],
)
def test_invalid_env_values(name: str, value: str) -> None:
    with pytest.raises(DomainError) as err:
        load_settings(env={name: value})
    assert err.value.reason == "configInvalid"
    assert err.value.message.startswith(name)
    assert err.value.details["key"] == name


def test_port_range_outside_1024_65535_falls_back_like_the_original(
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_user("[ssh]\nport_range_start = 80\nport_range_end = 2400\n")
    with caplog.at_level(logging.WARNING):
        assert load_settings(env=NO_ENV).ssh_port_range == (2300, 2400)
    assert "ssh.port_range_start" in caplog.text
    write_user('[ssh]\nport_range_start = "2400"\nport_range_end = 70000\n')
    assert load_settings(env=NO_ENV).ssh_port_range == (2300, 2500)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[ssh]\nport_range_start = 2600\n", "ssh.port_range_start"),
        ('[ssh]\nforward_agent = "yes"\n', "ssh.forward_agent"),
        ('[ssh]\nlocal_forward = "8080:localhost:8080"\n', "ssh.local_forward"),
        ('[ssh]\nlocal_forward = ["8080:localhost:8080", "8080"]\n', "ssh.local_forward[1]"),
        ('[ssh]\nlocal_forward = ["70000:localhost:80"]\n', "ssh.local_forward[0]"),
        ("[ssh]\nlocal_forward = [8080]\n", "ssh.local_forward[0]"),
        ('[secure_engine]\ncontext_name = "bad ctx"\n', "secure_engine.context_name"),
        (f'[secure_engine]\ncontext_name = "{"c" * 65}"\n', "secure_engine.context_name"),
        ("[secure_engine]\ncontext_name = 5\n", "secure_engine.context_name"),
        ('[isolation]\nallow_reduced = "true"\n', "isolation.allow_reduced"),
        ('[image]\nname = "two words"\n', "image.name"),
        ('[container]\nmemory = "4 GB"\n', "container.memory"),
        ("[container]\nmemory = 4\n", "container.memory"),
        ("[container]\ncpus = 0\n", "container.cpus"),
        ('[container]\ncpus = "2"\n', "container.cpus"),
        ("[container]\ncpus = true\n", "container.cpus"),
        ('[engine]\ncontexts = ["ok", "not ok"]\n', "engine.contexts"),
        ('[engine]\ncontexts = "ok"\n', "engine.contexts"),
        ("ssh = 1\n", "[ssh]"),
    ],
)
def test_bad_settings_name_file_and_key(text: str, key: str) -> None:
    path = write_user(text)
    with pytest.raises(DomainError) as err:
        load_settings(env=NO_ENV)
    assert err.value.reason == "configInvalid"
    assert err.value.message.startswith(f"{path}: {key} must be ")
    assert err.value.details == {"file": str(path), "key": key}
    assert err.value.hint


def test_repo_local_sets_resources_but_not_isolation_or_host_access(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_user('[container]\nmemory = "8g"\ncpus = 4\n[ssh]\nforward_agent = false\n')
    write_repo(
        repo,
        '[container]\nmemory = "2g"\n'
        "[isolation]\nallow_reduced = true\n"
        "[ssh]\nforward_agent = true\n"
        '[image]\nname = "evil:latest"\n',
    )
    with caplog.at_level(logging.WARNING):
        settings = load_settings(str(repo / "pkg"), env=NO_ENV)
    assert settings.memory == "2g"
    assert settings.cpus == 4.0
    assert settings.allow_reduced_isolation is False
    assert settings.ssh_forward_agent is False
    assert settings.image == DEFAULT_IMAGE
    for section in ("isolation", "ssh", "image"):
        assert f"[{section}] is ignored in a repository's config" in caplog.text
    assert load_settings(env=NO_ENV).memory == "8g"  # no workspace: no repo-local file


def test_bad_repo_local_resources_name_the_repo_file(repo: Path) -> None:
    path = write_repo(repo, "[container]\ncpus = -1\n")
    with pytest.raises(DomainError) as err:
        load_settings(str(repo), env=NO_ENV)
    assert err.value.reason == "configInvalid"
    assert err.value.details == {"file": str(path), "key": "container.cpus"}


# --- config get ----------------------------------------------------------------------------


def test_config_get_state_keys(tmp_path: Path) -> None:
    ws = str(tmp_path)
    assert config_get("container_name", ws, env=NO_ENV) == (None, None)
    update_workspace_state(ws, container_name="app-main", created_at="2024-01-01T00:00:00Z")
    assert config_get("container_name", ws, env=NO_ENV) == ("app-main", f"workspace:{ws}")
    assert config_get("created_at", ws, env=NO_ENV) == ("2024-01-01T00:00:00Z", f"workspace:{ws}")
    update_workspace_state(ws, container_name="")
    assert config_get("container_name", ws, env=NO_ENV) == (None, None)


def test_config_get_settings_keys_with_sources(tmp_path: Path) -> None:
    ws = str(tmp_path)
    assert config_get("image", ws, env=NO_ENV) == (DEFAULT_IMAGE, "default")
    assert config_get("context", ws, env=NO_ENV) == (None, None)
    write_user(FULL)
    assert config_get("image", ws, env=NO_ENV) == (
        "registry.local:5000/containai:dev",
        "user-global",
    )
    assert config_get("context", ws, env=NO_ENV) == ("my-ctx_1", "user-global")
    env = {"CONTAINAI_IMAGE": "containai:env", "CONTAINAI_CONTEXT": "env-ctx"}
    assert config_get("image", ws, env=env) == ("containai:env", "env")
    assert config_get("context", ws, env=env) == ("env-ctx", "env")


def test_config_get_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as err:
        config_get("agent.default", str(tmp_path), env=NO_ENV)
    assert err.value.reason == "unknownKey"
    assert "data_volume" in (err.value.hint or "")
