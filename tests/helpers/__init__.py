"""Helpers shared by test modules and bench scripts (no tests here): a real server process and its
HTTP client, headless Chromium launch settings, the editor page driver, toy prompts, the in-process
API client. Test modules import from here, never from each other."""
