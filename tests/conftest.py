"""Fixtures shared by every test folder."""

import os

import pytest

from nodeflow.schema.registry import STRICT_ENV

# A built-in node module that fails to import fails the tests (and the servers they start), instead
# of only removing its nodes.
os.environ[STRICT_ENV] = "1"

from nodeflow.folders import Folders


@pytest.fixture
def env(tmp_path):
    """A fresh NodeFlow base folder (input/output/temp/user/models) under tmp_path."""
    folders = Folders(tmp_path)
    folders.ensure()
    return folders
