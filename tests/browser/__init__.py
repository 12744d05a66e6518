"""Browser tests: the real ComfyUI frontend in headless Chromium (playwright-core scripts here)."""
