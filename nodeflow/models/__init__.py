"""Model loading and management. Nothing here ever downloads: the Hugging Face libraries are put
in offline mode before any of them is imported through this package."""

import os

for _flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DIFFUSERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
    os.environ.setdefault(_flag, "1")
