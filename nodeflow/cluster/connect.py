"""``--ray auto | ADDRESS | local:N`` -> a connected Ray driver.

- ``local:N``: start a one-node cluster in this process sized for N workers of ``worker_cpus`` each;
- ``ADDRESS`` (``host:port`` of a running head, e.g. from ``ray start --head``): join that cluster;
- ``auto``: join the cluster Ray finds on this machine (``RAY_ADDRESS`` or a running ``ray start``),
  else start a local one with a worker per GPU, or per ``worker_cpus`` cores.
The node address is pinned (default 127.0.0.1) so a local cluster's traffic stays on loopback.
Workers import NodeFlow from the same path as the head (runtime_env PYTHONPATH): install NodeFlow at
that path on every node."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

from nodeflow.runtime import REPO_ROOT

log = logging.getLogger(__name__)
STARTS = 3


@dataclass
class Cluster:
    address: str
    owned: bool  # started here: shut down with the server
    max_workers: int | None  # local:N caps the pool at N workers; None: every slot the cluster has


def parse(spec: str) -> tuple[str, int | None]:
    """('local', N) | ('auto', None) | ('address', None); ValueError naming the accepted forms."""
    spec = spec.strip()
    if spec.startswith("local:"):
        try:
            count = int(spec.split(":", 1)[1])
        except ValueError:
            count = 0
        if count < 1:
            raise ValueError(f"--ray {spec!r}: local:N needs a whole number of workers >= 1, e.g. local:2")
        return "local", count
    if spec == "auto":
        return "auto", None
    if not spec or " " in spec:
        raise ValueError(f"--ray {spec!r}: give auto, local:N or the address of a Ray head (host:port)")
    return "address", None


def _runtime_env() -> dict:
    paths = [str(REPO_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}}


def pin_loopback() -> None:
    """Ray turns 127.0.0.1 into the machine's routable address unless "clusters" are off for this
    process and its children (the switch Ray has for laptops): a local cluster then stays on loopback."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False


def connect(spec: str, worker_cpus: float = 1.0, node_ip: str = "127.0.0.1") -> Cluster:
    try:
        import ray
    except ImportError:
        raise ValueError(
            "--ray needs Ray: install it with `pip install ray` (the same version on every node)"
        ) from None

    kind, count = parse(spec)
    if node_ip in ("127.0.0.1", "localhost"):
        pin_loopback()
    common = {"runtime_env": _runtime_env(), "_node_ip_address": node_ip, "log_to_driver": True}
    if kind == "address" or kind == "auto":
        try:
            ray.init(address=spec if kind == "address" else "auto", **common)
            return Cluster(address=ray.get_runtime_context().gcs_address, owned=False, max_workers=None)
        except ConnectionError as exc:
            if kind == "address":
                raise ConnectionError(
                    f"--ray {spec}: no Ray cluster answers there ({exc}); start one with "
                    f"`ray start --head --node-ip-address 127.0.0.1` or use --ray local:N"
                ) from None
            log.info("no running Ray cluster found; starting a local one")
        count = max(1, int((os.cpu_count() or 1) // max(worker_cpus, 1e-9)))
    for attempt in range(1, STARTS + 1):
        try:
            ray.init(num_cpus=max(1, math.ceil(count * worker_cpus)), include_dashboard=False, **common)
            break
        except Exception as exc:  # Ray gives its raylet 30 s to register: a busy machine can miss that
            ray.shutdown()
            if attempt == STARTS or "timed out during startup" not in str(exc):
                raise
            log.warning("the local Ray cluster did not start in time (attempt %d of %d); trying again", attempt, STARTS)
    return Cluster(address=ray.get_runtime_context().gcs_address, owned=True, max_workers=count)
