"""Loaded with --extra-node-module by test_disk_full.py: a Save Image whose disk is full."""

import errno
from unittest import mock

from PIL import Image

from nodeflow.nodes.image_io import SaveImage


class SaveImageDiskFull(SaveImage):
    """SaveImage, except every file write fails with ENOSPC (No space left on device)."""

    def run(self, *args, **kwargs):
        full = OSError(errno.ENOSPC, "No space left on device")
        with mock.patch.object(Image.Image, "save", side_effect=full):
            return super().run(*args, **kwargs)
