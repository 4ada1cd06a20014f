"""A Ray cluster that grows: the server joins a running cluster by address (``--ray HOST:PORT``),
and a node that joins later gets a worker at once, which takes work beside the first."""

import pytest

from nodeflow.cluster.connect import pin_loopback
from tests.helpers.toy_prompts import slow_prompt

from .ray_server import Server

pytest.importorskip("ray")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # slow: starts a Ray cluster and grows it


def test_a_node_that_joins_the_cluster_gets_a_worker_at_once(tmp_path):
    from ray.cluster_utils import Cluster

    pin_loopback()  # the nodes started here stay on 127.0.0.1, as the server's own
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False}
    )
    server = None
    try:
        server = Server(tmp_path, ("--ray", cluster.address, "--worker-cpus", "1"))
        assert len(server.ready(1)) == 1
        first = server.queue(slow_prompt(1, 5))
        assert server.done(first)["status"]["status_str"] == "success"
        cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        rows = server.ready(2)
        assert len({w["node_id"] for w in rows}) == 2 and len(rows) == 2
        long_ones = [server.queue(slow_prompt(value, 400)) for value in (2, 3)]
        server.wait(lambda: sum(w["state"] == "busy" for w in server.workers()) == 2, what="both workers busy")
        for pid in long_ones:
            assert server.done(pid)["status"]["status_str"] == "success"
    finally:
        if server is not None:
            server.stop()
        cluster.shutdown()
