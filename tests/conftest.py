"""Fixtures shared by every test folder."""

import pytest

from nodeflow.folders import Folders


@pytest.fixture
def env(tmp_path):
    """A fresh NodeFlow base folder (input/output/temp/user/models) under tmp_path."""
    folders = Folders(tmp_path)
    folders.ensure()
    return folders
