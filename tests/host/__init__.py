"""Host tests: a real ComfyUI server with the pack, prompts posted to ``/prompt``."""
