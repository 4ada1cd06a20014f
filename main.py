"""Start NodeFlow: ``python main.py [--listen IP] [--port N] [--cpu] [--base-directory DIR]``."""

from __future__ import annotations

import logging
import secrets
import sys
from pathlib import Path

from aiohttp import web

from nodeflow.models.precision import from_args
from nodeflow.runtime import REPO_ROOT, build_runtime
from nodeflow.server.app import create_app
from nodeflow.server.cli_args import parser
from nodeflow.server.config import ServerConfig
from nodeflow.server.keys import STORE
from nodeflow.startup_gc import paused_then_frozen


def torch_system_info(models) -> dict:
    """Device facts for /system_stats (kept here: the server package never imports torch)."""
    try:
        import torch
    except ImportError:
        return {"devices": []}
    if models is not None and hasattr(models, "stats"):
        devices = [models.stats()]
    else:
        devices = [{"name": "cpu", "type": "cpu", "index": None, "vram_total": 0, "vram_free": 0}]
    return {"pytorch_version": torch.__version__, "devices": devices}


def workflow_converter(runtime):
    """Editor workflows given to POST /prompt under "workflow" become API prompts."""
    from nodeflow.cli.workflow_file import to_api_prompt

    def convert(workflow: dict):
        from nodeflow.cli.workflow_file import CliError

        try:
            return to_api_prompt(workflow, runtime.registry.object_info(runtime.env))
        except CliError as exc:
            raise ValueError(str(exc)) from None

    return convert


def worker_settings(args, runtime) -> dict:
    """What each Ray worker builds its runtime from: the same folders, flags and dtypes as this process."""
    return {
        "base_directory": str(runtime.env.base),
        "cpu": args.cpu,
        "lowvram": args.lowvram,
        "plain_kernels": args.plain_kernels,
        "precision": from_args(args).as_dict(),  # a worker computes in the same dtypes as the embedded one
        "cache_ram_gb": args.cache_ram,
        "cache_enabled": not args.cache_none,
        "extra_model_paths": args.extra_model_paths_config,
        "custom_nodes": not args.disable_custom_nodes,
        "custom_node_whitelist": args.whitelist_custom_nodes,
        "extra_node_modules": args.extra_node_module,
    }


def ray_pool_factory(args, runtime):
    """--ray: the Ray pool replaces the embedded worker (Ray is imported only here)."""
    if not args.ray:
        return None
    from nodeflow.cluster.connect import connect
    from nodeflow.cluster.pool import PoolSettings, RayPool

    cluster = connect(args.ray, worker_cpus=args.worker_cpus, node_ip=args.ray_node_ip)
    logging.info("Ray cluster at %s (%s)", cluster.address, "started here" if cluster.owned else "joined")
    worker = worker_settings(args, runtime)
    settings = PoolSettings(
        worker_cpus=args.worker_cpus,
        max_workers=cluster.max_workers,
        affinity=args.ray_policy == "affinity",
        worker=worker,
        owned_cluster=cluster.owned,
    )
    return lambda store, loop, send: RayPool(store, loop, send, runtime.registry, runtime.env, settings)


def main(argv: list[str] | None = None) -> None:
    cli = parser()
    args = cli.parse_args(argv)
    from nodeflow.server.security import parse_cors_origins

    try:
        cors_origins = parse_cors_origins(args.enable_cors_header)
    except ValueError as exc:
        cli.error(str(exc))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from nodeflow.comfy_compat.binding import set_cli

    set_cli(listen=args.listen, port=args.port, verbose="DEBUG" if args.verbose else "INFO")
    try:
        with paused_then_frozen():  # torch, the nodes, the registry: long-lived objects the collector may skip
            runtime = build_runtime(
                args.base_directory,
                cpu=args.cpu,
                lowvram=args.lowvram,
                precision=from_args(args),
                plain_kernels=args.plain_kernels,
                cache_ram_gb=args.cache_ram,
                cache_enabled=not args.cache_none,
                extra_model_paths=args.extra_model_paths_config,
                custom_nodes=not args.disable_custom_nodes,
                custom_node_whitelist=args.whitelist_custom_nodes,
                extra_node_modules=args.extra_node_module,
            )
    except ValueError as exc:  # flags that cannot run together here (e.g. --int8-linear with --bf16-unet)
        cli.error(str(exc))
    if runtime.registry.failed_modules:  # each was logged with its traceback as it failed
        logging.error(
            "NodeFlow starts WITHOUT the nodes of %d broken built-in module(s): %s",
            len(runtime.registry.failed_modules),
            "; ".join(f"{module} ({error})" for module, error in runtime.registry.failed_modules.items()),
        )
    for status in runtime.plugin_status:
        if status.ok:
            logging.info("plugin %s: %d nodes in %.2f s", status.name, len(status.nodes), status.import_seconds)
    packs = [status for status in runtime.plugin_status if status.ok and status.web_directory]
    from nodeflow.server.security import is_loopback

    remote = not is_loopback(args.listen)
    token = args.access_token or (secrets.token_urlsafe(24) if remote else None)
    allowed = list(args.allowed_hosts) + ([args.listen] if remote and args.listen not in ("0.0.0.0", "::") else [])
    config = ServerConfig(
        listen=args.listen,
        port=args.port,
        web_dir=REPO_ROOT / "web",
        extensions=[script for status in packs for script in status.scripts],
        extension_dirs={status.name: Path(status.web_directory) for status in packs},
        database=Path(args.database) if args.database else None,
        max_upload_mb=args.max_upload_size,
        max_history=args.max_history,
        system_info=lambda: torch_system_info(runtime.models),
        plugin_status=runtime.plugin_status,
        allowed_hosts=allowed,
        access_token=token,
        cors_origins=cors_origins,
    )
    try:
        pool = ray_pool_factory(args, runtime)
    except (ValueError, ConnectionError) as exc:
        cli.error(str(exc))
    app = create_app(
        config,
        runtime.registry,
        runtime.engine,
        runtime.env,
        workflow_to_prompt=workflow_converter(runtime),
        worker_factory=pool,
    )
    recovered = app[STORE].recovered
    if recovered:
        logging.warning(
            "%d prompt(s) were running when the server last stopped; they are in the history as interrupted",
            len(recovered),
        )
    host = args.listen
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    suffix = f"/?token={token}" if token else ""
    print(f"NodeFlow: {len(runtime.registry)} nodes; open http://{shown}:{args.port}{suffix}", flush=True)
    if remote and not args.allowed_hosts:
        print(
            "NodeFlow: reachable beyond this machine; add --allowed-hosts NAME for every host name people use "
            "to reach it (requests under other names are refused)",
            flush=True,
        )
    web.run_app(app, host=host, port=args.port, print=None, handle_signals=True)


if __name__ == "__main__":
    sys.exit(main())
