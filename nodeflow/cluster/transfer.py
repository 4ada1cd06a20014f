"""Files between the head and a worker (through Ray's object store; workers never share a disk
with the head). Out: the input files a prompt names. Back: the files a prompt wrote to the worker's
output folder and the temp files its results show; the head stores them in its own folders, renaming
where the head already has a file of that name (``x_00001_.png`` -> the head's next counter), and
rewrites the results to match."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from nodeflow.folders import UnsafePath, safe_join
from nodeflow.nodes.output_names import next_counter

MAX_INPUT_BYTES = 1 << 30
COUNTED = re.compile(r"^(?P<stem>.*)_(?P<n>\d+)_(?P<suffix>\.[^/]+)$")
File = tuple[str, str, bytes]  # (folder type, '/'-separated name inside it, content)


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list) and not (len(value) == 2 and isinstance(value[1], int)):  # not a link
        for item in value:
            yield from _strings(item)


def prompt_inputs(env: Any, prompt: dict) -> list[File]:
    """Every file of the input (or output/temp, ``name [output]``) folder a literal input names."""
    files: dict[tuple[str, str], bytes] = {}
    for node in prompt.values():
        inputs = node.get("inputs") if isinstance(node, dict) else None
        for value in (inputs or {}).values():
            for text in _strings(value):
                kind, name = "input", text
                for tag in ("input", "output", "temp"):
                    if text.endswith(f" [{tag}]"):
                        kind, name = tag, text[: -len(tag) - 3]
                try:
                    path = safe_join(env.directory(kind), name)
                except (UnsafePath, ValueError):
                    continue
                if path.is_file() and path.stat().st_size <= MAX_INPUT_BYTES and (kind, name) not in files:
                    files[(kind, name)] = path.read_bytes()
    return [(kind, name, data) for (kind, name), data in files.items()]


def place_inputs(env: Any, files: list[File]) -> None:
    """On the worker: write the files the head sent into this worker's folders."""
    for kind, name, data in files:
        path = safe_join(env.directory(kind), name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            st = path.stat()
            found[path.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns)
    return found


def _records(ui: Any):
    """Every {filename, subfolder, type} record in a node's ui results."""
    if isinstance(ui, dict):
        if isinstance(ui.get("filename"), str) and ui.get("type") in ("output", "temp", "input"):
            yield ui
        for value in ui.values():
            yield from _records(value)
    elif isinstance(ui, list):
        for item in ui:
            yield from _records(item)


def _rel(record: dict) -> str:
    return "/".join(p for p in (record.get("subfolder") or "", record["filename"]) if p)


def collect_outputs(env: Any, before: dict[str, tuple[int, int]], outputs: dict) -> list[File]:
    """On the worker: the output files written since ``before`` and every temp file the results show."""
    files: list[File] = []
    after = snapshot(env.output_dir)
    for rel, stamp in after.items():
        if before.get(rel) != stamp:
            files.append(("output", rel, (env.output_dir / rel).read_bytes()))
    shown = {_rel(r) for r in _records(outputs) if r["type"] == "temp"}
    for rel in sorted(shown):
        path = safe_join(env.temp_dir, rel)
        if path.is_file():
            files.append(("temp", rel, path.read_bytes()))
    return files


def _free_name(folder: Path, name: str) -> str:
    if not (folder / name).exists():
        return name
    m = COUNTED.match(name)
    if m:
        return f"{m['stem']}_{next_counter(folder, m['stem'], m['suffix']):05}_{m['suffix']}"
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, dot + ext) if dot else (name, "")
    n = 2
    while (folder / f"{stem}-{n}{ext}").exists():
        n += 1
    return f"{stem}-{n}{ext}"


def store_outputs(env: Any, files: list[File], outputs: dict) -> dict:
    """On the head: write the worker's files into the head's folders; returns ``outputs`` with the
    records pointing at the names the files got."""
    renamed: dict[tuple[str, str], str] = {}
    for kind, rel, data in files:
        path = safe_join(env.directory(kind), rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        name = _free_name(path.parent, path.name)
        (path.parent / name).write_bytes(data)
        if name != path.name:
            renamed[(kind, rel)] = name
    for record in _records(outputs):
        new = renamed.get((record["type"], _rel(record)))
        if new:
            record["filename"] = new
    return outputs
