"""Templates over the in-memory engine: which image a new container gets, the labels that
record its template, when a container is outdated (its Dockerfile or its base image
changed), and that a bad name, another template or a failing build leave it untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import ListParams, RunParams, StatusParams
from containai_rpc.service import Service
from containai_rpc.service.templates import choose_image, with_outdated_list
from containai_rpc.workspace.config import Settings
from containai_rpc.workspace.templates import templates_dir
from tests.support.fake_engine import FakeDocker

BASE = "base:latest"


def write_template(name: str, text: str) -> Path:
    dockerfile = templates_dir() / name / "Dockerfile"
    dockerfile.parent.mkdir(parents=True, exist_ok=True)
    dockerfile.write_text(text)
    return dockerfile


@pytest.fixture
def engine(fake_docker: FakeDocker):
    engine = fake_docker["default"]
    engine.add_image(BASE, {"containai.image.ssh": "false"}).layers = ("base-1",)
    return engine


@pytest.mark.parametrize(
    ("params", "settings", "image", "template"),
    [
        ({"template": "a", "image_tag": "x"}, {}, "containai-template-a:local", "a"),
        ({"image_tag": "x"}, {"template": "b"}, "containai:x", None),
        ({"image": "mine:1"}, {"template": "b"}, "mine:1", None),
        ({}, {"template": "b"}, "containai-template-b:local", "b"),
        ({}, {"image": "conf:2"}, "conf:2", None),
    ],
)
def test_template_beats_image_tag_beats_image_beats_the_config(params, settings, image, template):
    choice = choose_image(RunParams(**params), Settings(**settings))
    assert (choice.image, choice.template) == (image, template)
    assert bool(choice.warnings) == ("template" in params and "image_tag" in params)


@pytest.mark.parametrize("name", ["", "Upper", "-dash", "a/b", "../up", "a b", "x" * 129])
def test_a_bad_template_name_is_refused(name):
    with pytest.raises(DomainError) as caught:
        choose_image(RunParams(template=name), Settings())
    assert caught.value.reason == "invalidTemplateName"


def test_a_bad_image_tag_is_refused():
    with pytest.raises(DomainError) as caught:
        choose_image(RunParams(image_tag="a:b"), Settings())
    assert caught.value.reason == "invalidName"


def test_a_template_container_is_labelled_and_reported_outdated_after_an_edit(
    fake_service: Service, engine, workspaces
):
    dockerfile = write_template("web", f"FROM {BASE}\nRUN one\n")
    ws = str(workspaces("app"))
    created = fake_service.run(RunParams(workspace=ws, template="web"))
    assert created.image == "containai-template-web:local"
    info = engine.by_name(created.container_name)
    assert info is not None
    assert info.labels["ai.containai.template"] == "web"
    digest = hashlib.sha256(dockerfile.read_bytes()).hexdigest()
    assert info.labels["ai.containai.template-hash"] == digest
    assert created.container is not None
    assert (created.container.template, created.container.outdated) == ("web", False)

    dockerfile.write_text(f"FROM {BASE}\nRUN two\n")
    status = fake_service.status(StatusParams(workspace=ws))
    assert status.outdated is True and "template 'web' changed" in (status.outdated_reason or "")
    [listed] = fake_service.list(ListParams()).containers
    assert listed.outdated is True

    attached = fake_service.run(RunParams(workspace=ws, template="web"))
    assert attached.action == "attach" and attached.container is not None
    assert attached.container.outdated is True
    assert any("is outdated" in w for w in attached.warnings or [])

    rebuilt = fake_service.run(RunParams(workspace=ws, template="web", fresh=True))
    assert rebuilt.action == "recreate" and rebuilt.container is not None
    assert rebuilt.container.outdated is False
    assert rebuilt.data_volume == created.data_volume


def test_a_changed_base_image_makes_it_outdated(fake_service: Service, engine, workspaces):
    write_template("web", f"FROM {BASE}\nRUN one\n")
    ws = str(workspaces("app"))
    fake_service.run(RunParams(workspace=ws, template="web"))
    assert fake_service.status(StatusParams(workspace=ws)).outdated is False

    engine.images.pop(BASE)
    engine.add_image(BASE, {"containai.image.ssh": "false"}, image_id="sha256:new").layers = (
        "base-2",
    )
    status = fake_service.status(StatusParams(workspace=ws))
    assert status.outdated is True
    assert f"base image {BASE}" in (status.outdated_reason or "")


def test_a_plain_image_container_has_no_outdated_flag(fake_service: Service, workspaces):
    ws = str(workspaces("app"))
    fake_service.run(RunParams(workspace=ws))
    status = fake_service.status(StatusParams(workspace=ws))
    assert (status.template, status.outdated) == (None, None)


def test_the_default_template_is_installed_from_the_configured_image(
    fake_service: Service, engine, workspaces, monkeypatch
):
    monkeypatch.setenv("CONTAINAI_IMAGE", BASE)
    result = fake_service.run(RunParams(workspace=str(workspaces("app")), template="default"))
    assert result.image == "containai-template-default:local"
    text = (templates_dir() / "default" / "Dockerfile").read_text()
    assert f"FROM {BASE}" in text


def test_the_config_names_the_template(fake_service: Service, engine, workspaces):
    write_template("cfg", f"FROM {BASE}\n")
    config = templates_dir().parent / "config.toml"
    config.write_text('[template]\nname = "cfg"\n')
    result = fake_service.run(RunParams(workspace=str(workspaces("app"))))
    assert result.image == "containai-template-cfg:local"


def test_a_missing_template_or_base_is_a_clear_error(fake_service: Service, engine, workspaces):
    ws = str(workspaces("app"))
    with pytest.raises(DomainError) as missing:
        fake_service.run(RunParams(workspace=ws, template="nosuch"))
    assert missing.value.reason == "templateBuildFailed"
    assert "Template 'nosuch' not found" in missing.value.message
    write_template("nobase", "FROM absent:1\n")
    with pytest.raises(DomainError) as no_base:
        fake_service.run(RunParams(workspace=ws, template="nobase"))
    assert no_base.value.reason == "imageNotFound" and "absent:1" in no_base.value.message
    assert engine.names() == []


def test_bad_name_other_template_or_failing_build_leave_the_container(
    fake_service: Service, engine, workspaces
):
    dockerfile = write_template("web", f"FROM {BASE}\n")
    write_template("api", f"FROM {BASE}\n")
    ws = str(workspaces("app"))
    before = fake_service.run(RunParams(workspace=ws, template="web")).container
    assert before is not None

    with pytest.raises(DomainError) as bad:
        fake_service.run(RunParams(workspace=ws, template="Bad", fresh=True))
    assert bad.value.reason == "invalidTemplateName"
    with pytest.raises(DomainError) as other:
        fake_service.run(RunParams(workspace=ws, template="api"))
    assert other.value.reason == "templateMismatch" and "'web'" in other.value.message
    dockerfile.write_text(f"FROM {BASE}\nFAIL\n")
    with pytest.raises(DomainError) as failed:
        fake_service.run(RunParams(workspace=ws, template="web", fresh=True))
    assert failed.value.reason == "templateBuildFailed"

    info = engine.by_name(before.name)
    assert info is not None and info.id == before.id and info.running
    assert not [c for c in engine.calls if c.method in ("remove", "stop")]


def test_image_tag_uses_the_containai_repository_and_records_the_tag(
    fake_service: Service, engine, workspaces
):
    engine.add_image("containai:v2", {"containai.image.ssh": "false"})
    result = fake_service.run(RunParams(workspace=str(workspaces("app")), image_tag="v2"))
    assert result.image == "containai:v2"
    info = engine.by_name(result.container_name)
    assert info is not None and info.labels["containai.image-tag"] == "v2"
    assert "ai.containai.template" not in info.labels


def test_default_uses_a_container_made_before_templates_another_template_does_not(
    fake_service: Service, engine, workspaces, monkeypatch
):
    monkeypatch.setenv("CONTAINAI_IMAGE", BASE)
    write_template("web", f"FROM {BASE}\n")
    ws = str(workspaces("app"))
    plain = fake_service.run(RunParams(workspace=ws))
    again = fake_service.run(RunParams(workspace=ws, template="default"))
    assert (again.action, again.container_name) == ("attach", plain.container_name)
    with pytest.raises(DomainError) as other:
        fake_service.run(RunParams(workspace=ws, template="web"))
    assert other.value.reason == "templateMismatch"
    assert "not built from a template" in other.value.message


def test_list_reads_each_template_and_image_once_and_uses_cached_inspects(
    fake_service: Service, fake_docker: FakeDocker, engine, workspaces
):
    """`list` runs often (every `cai list`, every tree refresh): containers of one
    template share its Dockerfile read and its base's inspect; a cached inspect is used."""
    write_template("web", f"FROM {BASE}\nRUN one\n")
    for name in ("one", "two", "three"):
        fake_service.run(RunParams(workspace=str(workspaces(name)), template="web"))
    listing = fake_service.list(ListParams())
    infos = {c.id: engine.inspect(c.id) for c in listing.containers}
    images = {info.image_id for info in infos.values() if info is not None}
    engine.calls.clear()

    marked = with_outdated_list(
        fake_docker.engine_set(), listing, lambda _ctx, cid: infos.get(cid)
    )

    assert [c.outdated for c in marked.containers] == [False, False, False]
    assert not engine.called("inspect")
    layers = [call.args[0] for call in engine.called("image_layers")]
    assert sorted(layers) == sorted([BASE, *images])
