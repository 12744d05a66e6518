"""Thin V3 node classes: they adapt `models/` to the ComfyUI host, one module per stage."""
