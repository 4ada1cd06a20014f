"""Workflow formats: NodeFlow's own (widgets by name), ComfyUI's editor format and API prompts."""
