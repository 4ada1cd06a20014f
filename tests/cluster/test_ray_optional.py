"""Without --ray nothing of Ray is imported; --ray values are checked with a message naming the forms."""

import subprocess
import sys

import pytest

from nodeflow.cluster.connect import parse
from tests.helpers.server_process import ROOT


def test_the_default_server_never_imports_ray():
    code = (
        "import sys, main\n"
        "from nodeflow.server.cli_args import parser\n"
        "assert main.ray_pool_factory(parser().parse_args([]), None) is None\n"
        "import nodeflow.server.app, nodeflow.runtime\n"
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "spec, expected", [("local:3", ("local", 3)), ("auto", ("auto", None)), ("10.0.0.1:6379", ("address", None))]
)
def test_ray_specs(spec, expected):
    assert parse(spec) == expected


@pytest.mark.parametrize("spec", ["local:0", "local:two", "", "two words"])
def test_bad_ray_specs_name_the_accepted_forms(spec):
    with pytest.raises(ValueError, match="local:N"):
        parse(spec)
