"""Templates on the host: `<config>/templates/<name>/Dockerfile`, as the original keeps them.

A template is a Dockerfile the user owns; `run` builds it as
`containai-template-<name>:local` and labels the container with the template's name and
the sha256 of its Dockerfile, so both tools see when it changed since. The `default`
template is written on first use, `FROM` the base image.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from containai_rpc.core.naming import quote_for_message
from containai_rpc.errors import DomainError
from containai_rpc.workspace.state import config_dir

DEFAULT_TEMPLATE = "default"
TEMPLATE_LABEL = "ai.containai.template"
TEMPLATE_HASH_LABEL = "ai.containai.template-hash"
IMAGE_TAG_LABEL = "containai.image-tag"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_FROM_RE = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", re.I | re.M)


def templates_dir() -> Path:
    return config_dir() / "templates"


def image_for(name: str) -> str:
    """The local image a template builds (the original's name)."""
    return f"containai-template-{name}:local"


def check_template_name(name: str) -> str:
    if len(name) > 128 or not _NAME_RE.match(name):
        raise DomainError(
            "invalidTemplateName",
            f"Invalid template name: {quote_for_message(name)}",
            hint="Template names are lowercase letters, digits, dashes, underscores and dots, "
            "starting with a letter or digit.",
            template=name,
        )
    return name


@dataclass(frozen=True)
class Template:
    """One template as it is on disk now."""

    name: str
    folder: Path
    dockerfile: bytes

    @property
    def fingerprint(self) -> str:
        """sha256 hex of the Dockerfile: the `ai.containai.template-hash` label's value."""
        return hashlib.sha256(self.dockerfile).hexdigest()

    @property
    def base(self) -> str | None:
        """The image the last stage builds on; None when it is a variable or a stage."""
        found = _FROM_RE.findall(self.dockerfile.decode("utf-8", "replace"))
        if not found:
            return None
        stages = {alias.lower() for _, alias in found if alias}
        ref = found[-1][0]
        return None if "$" in ref or ref.lower() in stages else ref


def default_dockerfile(base_image: str) -> str:
    return (
        "# The default ContainAI template: your changes are built into\n"
        f"# {image_for(DEFAULT_TEMPLATE)} by the next run (with fresh).\n"
        f"FROM {base_image}\n"
    )


def load_template(name: str, base_image: str) -> Template:
    """The template's Dockerfile; `default` is installed first if missing."""
    folder = templates_dir() / check_template_name(name)
    dockerfile = folder / "Dockerfile"
    if name == DEFAULT_TEMPLATE and not dockerfile.exists():
        folder.mkdir(parents=True, exist_ok=True)
        dockerfile.write_text(default_dockerfile(base_image), encoding="utf-8")
    try:
        return Template(name, folder, dockerfile.read_bytes())
    except OSError as exc:
        raise DomainError(
            "templateBuildFailed",
            f"Template '{name}' not found: {dockerfile} ({exc.strerror})",
            hint=f"Create {dockerfile}, or pick another template.",
            template=name,
        ) from None


def current_template(name: str) -> Template | None:
    """The template on disk now, without installing anything (None: no such template)."""
    if not _NAME_RE.match(name):
        return None
    folder = templates_dir() / name
    try:
        return Template(name, folder, (folder / "Dockerfile").read_bytes())
    except (OSError, ValueError):
        return None
