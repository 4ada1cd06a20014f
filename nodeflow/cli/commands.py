"""The subcommands of ``python -m nodeflow``: each is (help, add_arguments, handler)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from nodeflow.workflow.share import shareable_pnginfo

from .workflow_file import CliError, read_json, to_api_prompt


def _runtime_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow", help="workflow file: API prompt, NodeFlow or ComfyUI editor JSON, or a PNG")
    parser.add_argument(
        "--base-directory", default=None, help="folder holding models/ input/ output/ (default: the NodeFlow folder)"
    )
    parser.add_argument("--cpu", action="store_true", help="run on the CPU even when a GPU is present")
    parser.add_argument("--disable-custom-nodes", action="store_true", help="do not load custom_nodes/")


def _load(args: argparse.Namespace, output: str | None = None):
    data = read_json(args.workflow)  # first: a missing or broken file is reported before torch and the nodes load
    from nodeflow.runtime import build_runtime
    from nodeflow.startup_gc import paused_then_frozen

    with paused_then_frozen():
        runtime = build_runtime(
            args.base_directory, cpu=args.cpu, custom_nodes=not args.disable_custom_nodes, output_directory=output
        )
    prompt, warnings = to_api_prompt(data, runtime.registry.object_info(runtime.env))
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return runtime, prompt, data


def _print_errors(validation) -> None:
    if validation.error:
        print(
            f"error: {validation.error['message']}"
            + (f": {validation.error['details']}" if validation.error["details"] else ""),
            file=sys.stderr,
        )
    for node_id, entry in validation.node_errors.items():
        for err in entry["errors"]:
            print(
                f"node {node_id} ({entry['class_type']}): {err['type']}: {err['message']}"
                + (f" [{err['details']}]" if err.get("details") else ""),
                file=sys.stderr,
            )


def validate_command(args: argparse.Namespace) -> int:
    from nodeflow.graph.validate import validate_prompt

    try:
        runtime, prompt, _ = _load(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    validation = validate_prompt(runtime.registry, runtime.env, prompt)
    _print_errors(validation)
    if validation.ok and not validation.node_errors:
        print(f"ok: {len(prompt)} nodes, outputs {', '.join(validation.outputs)}")
        return 0
    return 1


def run_command(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from nodeflow.engine.job import Job
    from nodeflow.graph.validate import validate_prompt

    try:
        runtime, prompt, data = _load(args, args.output)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    validation = validate_prompt(runtime.registry, runtime.env, prompt)
    if not validation.ok:
        _print_errors(validation)
        return 1
    _print_errors(validation)  # outputs that failed validation are skipped, but said
    bar = tqdm(total=0, unit="step", dynamic_ncols=True, file=sys.stderr)

    def emit(event: str, payload: dict) -> None:
        if event == "executing" and payload.get("node"):
            node = prompt[payload["node"]]
            bar.reset(total=0)
            bar.set_description(f"{payload['node']} {node['class_type']}")
        elif event == "progress":
            if bar.total != payload["max"]:
                bar.reset(total=payload["max"])
            bar.n = payload["value"]
            bar.refresh()
        elif event == "text":
            bar.write(payload["text"], end="")

    extra = {}
    if isinstance(data, dict) and "nodes" in data:  # ComfyUI's format under "workflow", NodeFlow's beside it
        extra = {
            "extra_pnginfo": shareable_pnginfo(
                {"workflow": data}, lambda types: runtime.registry.object_info(runtime.env, types)
            )
        }
    job = Job(prompt_id=uuid.uuid4().hex, prompt=prompt, outputs_to_execute=validation.outputs, extra_data=extra)
    result = runtime.engine.execute(job, emit, threading.Event())
    bar.close()
    if result.status != "success":
        err = result.error or {}
        print(
            f"error: node {err.get('node_id')} ({err.get('node_type')}) failed: "
            f"{err.get('exception_type', '')}: {err.get('exception_message', 'interrupted')}",
            file=sys.stderr,
        )
        return 1
    for node_id, ui in result.outputs.items():
        for image in ui.get("images", []):
            folder = runtime.env.directory(image.get("type", "output"))
            print(Path(folder, image.get("subfolder", ""), image["filename"]))
        for text in ui.get("text", []):
            print(f"{node_id}: {text}")
    return 0


def _run_args(parser: argparse.ArgumentParser) -> None:
    _runtime_args(parser)
    parser.add_argument("--output", default=None, help="output folder (default: output/ under the base directory)")


COMMANDS: dict[str, tuple[str, Callable, Callable]] = {
    "run": ("run a workflow headless and print where its outputs went", _run_args, run_command),
    "validate": ("check a workflow and print every validation error (exit 1 on any)", _runtime_args, validate_command),
}


def convert_command(args: argparse.Namespace) -> int:
    from nodeflow.runtime import build_runtime
    from nodeflow.workflow import convert
    from nodeflow.workflow.image_metadata import workflow_from_image

    runtime = build_runtime(args.base_directory, custom_nodes=not args.disable_custom_nodes)
    object_info = runtime.registry.object_info(runtime.env)
    source = Path(args.input)
    try:
        if source.suffix.lower() in (".png", ".webp") and source.exists():
            data, warnings = workflow_from_image(source.read_bytes(), object_info)
        else:
            data, warnings = read_json(args.input), []
        target = {"api": convert.to_api, "nodeflow": convert.to_nodeflow, "comfyui": convert.to_comfyui}[args.to]
        result, more = target(data, object_info)
    except (CliError, convert.WorkflowError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in warnings + more:
        print(f"warning: node {warning['node']}: {warning['message']}", file=sys.stderr)
    Path(args.output).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {args.output} ({args.to} format)")
    return 0


def _convert_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="workflow JSON (any format) or a PNG/WebP carrying one")
    parser.add_argument("output", help="file to write")
    parser.add_argument("--to", choices=["api", "nodeflow", "comfyui"], default="nodeflow")
    parser.add_argument("--base-directory", default=None)
    parser.add_argument("--disable-custom-nodes", action="store_true")


COMMANDS["convert"] = (
    "convert a workflow between NodeFlow, ComfyUI editor and API formats",
    _convert_args,
    convert_command,
)


def new_node_command(args: argparse.Namespace) -> int:
    from nodeflow.plugins.scaffold import scaffold_pack

    try:
        target = scaffold_pack(Path(args.dest), args.name)
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"created {target}: edit {target / '__init__.py'}, run its test with "
        f"python -m pytest {target / 'tests'}, restart NodeFlow to load it"
    )
    return 0


def _new_node_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="pack name (a Python identifier, e.g. my_nodes)")
    parser.add_argument("--dest", default="custom_nodes", help="folder to create the pack in (default custom_nodes)")


COMMANDS["new-node"] = (
    "create a plugin pack with a typed node, a web extension and a test",
    _new_node_args,
    new_node_command,
)
