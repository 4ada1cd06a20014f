"""Command-line flags of ``python main.py``."""

from __future__ import annotations

import argparse

from nodeflow.models.precision import add_flags as add_precision_flags


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python main.py", description="Start the NodeFlow server and editor.")
    p.add_argument(
        "--listen",
        nargs="?",
        const="0.0.0.0",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; --listen alone means all interfaces)",
    )
    p.add_argument("--port", type=int, default=8188, help="port (default 8188)")
    p.add_argument("--cpu", action="store_true", help="run models on the CPU even when a GPU is present")
    p.add_argument("--lowvram", action="store_true", help="keep model weights off the GPU between uses")
    add_precision_flags(p)  # --force-fp32/--force-fp16, --{fp32,fp16,bf16}-{unet,vae,text-enc}, ...
    p.add_argument(
        "--plain-kernels",
        action="store_true",
        help="compute convolutions and linear layers with torch's own kernels (bit-identical to torch's modules; "
        "slower on CPU, where NodeFlow runs small feature maps as one GEMM and linear layers through oneDNN)",
    )
    p.add_argument(
        "--base-directory",
        default=None,
        help="folder holding models/ input/ output/ temp/ user/ (default: the NodeFlow folder)",
    )
    p.add_argument(
        "--extra-model-paths-config",
        action="append",
        default=None,
        help="an extra_model_paths.yaml to read (may be given more than once)",
    )
    p.add_argument("--cache-ram", type=float, default=4.0, metavar="GB", help="RAM budget of the output cache")
    p.add_argument("--cache-none", action="store_true", help="cache no node outputs (re-run everything)")
    p.add_argument("--max-upload-size", type=float, default=100.0, metavar="MB", help="largest upload accepted")
    p.add_argument("--max-history", type=int, default=10000, help="history entries kept")
    p.add_argument("--database", default=None, help="SQLite file of the queue and history (default user/nodeflow.db)")
    p.add_argument("--disable-custom-nodes", action="store_true", help="do not load plugins from custom_nodes/")
    p.add_argument(
        "--whitelist-custom-nodes", nargs="*", default=None, metavar="PACK", help="load only these plugin packs"
    )
    p.add_argument(
        "--extra-node-module",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE and register its Node classes (for tests and experiments)",
    )
    p.add_argument(
        "--allowed-hosts",
        nargs="*",
        default=[],
        metavar="NAME",
        help="host names (besides localhost/loopback) the server answers to, e.g. my-pc.lan",
    )
    p.add_argument(
        "--access-token",
        default=None,
        help="token required on every request; generated and printed when binding beyond loopback",
    )
    p.add_argument(
        "--enable-cors-header",
        nargs="?",
        const="*",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages from ORIGIN (e.g. https://my-app.example.com) call the API from the browser; "
        "repeat it or separate origins with commas. '*' (any site) is refused",
    )
    p.add_argument(
        "--ray",
        default=None,
        metavar="auto|ADDRESS|local:N",
        help="run prompts on Ray workers (one per GPU, or per --worker-cpus cores): 'local:N' starts a "
        "local cluster with N workers, ADDRESS joins a running cluster (host:port of `ray start "
        "--head`), 'auto' joins the one on this machine or starts one. Default: run prompts here",
    )
    p.add_argument(
        "--worker-cpus",
        type=float,
        default=1.0,
        metavar="N",
        help="CPU cores per Ray worker on nodes without a GPU (default 1)",
    )
    p.add_argument(
        "--ray-node-ip",
        default="127.0.0.1",
        metavar="IP",
        help="this machine's address in the Ray cluster (default 127.0.0.1: a local cluster stays on loopback)",
    )
    p.add_argument(
        "--ray-policy",
        choices=("affinity", "fifo"),
        default="affinity",
        help="how free Ray workers pick prompts: 'affinity' (models they hold first, fair between "
        "clients) or 'fifo' (queue order, fair between clients)",
    )
    p.add_argument("--verbose", action="store_true", help="debug logging")
    return p
