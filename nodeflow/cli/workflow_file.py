"""Read a workflow file given on the command line and turn it into an API prompt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class CliError(Exception):
    """A problem with the command's input, reported as one line and exit code 2."""


def read_json(path: str) -> Any:
    file = Path(path)
    if not file.exists():
        raise CliError(f"{path}: no such file")
    if file.suffix.lower() in (".png", ".webp"):
        from nodeflow.workflow.image_metadata import read_image_metadata

        meta = read_image_metadata(file.read_bytes())
        for key in ("workflow", "prompt"):
            if meta.get(key):
                return meta[key]
        raise CliError(f"{path}: the image carries no workflow or prompt metadata")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CliError(f"{path}: not a UTF-8 text file; give a workflow .json (or a PNG carrying one)") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def to_api_prompt(data: Any, object_info: dict) -> tuple[dict, list]:
    """Any supported workflow format -> (API prompt, warnings)."""
    if isinstance(data, dict) and "prompt" in data and isinstance(data["prompt"], dict) and "nodes" not in data:
        data = data["prompt"]  # a saved POST /prompt body
    if _looks_like_api_prompt(data):
        return data, []
    from nodeflow.workflow import convert

    try:
        return convert.to_api(data, object_info)
    except convert.WorkflowError as exc:
        raise CliError(str(exc)) from None


def _looks_like_api_prompt(data: Any) -> bool:
    return (
        isinstance(data, dict) and bool(data) and all(isinstance(v, dict) and "class_type" in v for v in data.values())
    )
