"""Small adapters to the host: errors attributed to nodes, progress and interruption."""

from __future__ import annotations

import contextlib

import comfy.model_management
import comfy.utils

from ..models.core.errors import DreamActorError


@contextlib.contextmanager
def node_errors(node_id: str):
    """Attribute any DreamActorError raised inside to ``node_id`` (the message names it)."""
    try:
        yield
    except DreamActorError as e:
        raise e.at(node_id) from None


def validation_message(node_id: str, input: str, what: str, fix: str) -> str:
    """A ``validate_inputs`` answer (the host shows the returned string) worded as every
    DreamActorError is: ``[node, input 'x'] what. Fix: fix``."""
    return str(DreamActorError(what, fix=fix, input=input, node=node_id))


class Progress:
    """A ComfyUI progress bar that also checks for the user's interrupt.

    ``models/`` code takes ``progress(done, total)`` and ``should_stop()`` callables;
    this object provides both, so long loops show progress and stop on Cancel.
    """

    def __init__(self, total: int):
        self.bar = comfy.utils.ProgressBar(max(1, int(total)))

    def __call__(self, done: int, total: int | None = None) -> None:
        self.bar.update_absolute(done, total)
        comfy.model_management.throw_exception_if_processing_interrupted()

    @staticmethod
    def should_stop() -> None:
        comfy.model_management.throw_exception_if_processing_interrupted()
