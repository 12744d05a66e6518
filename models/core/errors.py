"""One error type for everything a user can get wrong.

Every message names the node, the input and the fix, so the ComfyUI error
dialog alone tells the artist what to do. ``models/`` raises it without the
node name (it knows nothing of nodes); the node adapter fills the name in.
"""

from __future__ import annotations


class DreamActorError(ValueError):
    """A user-facing error: ``what`` went wrong with ``input``; ``fix`` says what to do."""

    def __init__(self, what: str, *, fix: str, input: str | None = None, node: str | None = None):
        self.what = what
        self.fix = fix
        self.input = input
        self.node = node
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.node or "DreamActor"
        if self.input:
            where += f", input '{self.input}'"
        return f"[{where}] {self.what}. Fix: {self.fix}"

    def at(self, node: str, input: str | None = None) -> "DreamActorError":
        """The same error, attributed to a node (and an input, if not known yet)."""
        self.node = self.node or node
        self.input = self.input or input
        self.args = (self._render(),)
        return self
