"""The pack's HTTP routes on the host's server (prefixed /dreamactor/; the host mirrors them under /api).

``GET  /dreamactor/retarget_preview?name=<preview>&frame=<t>&count=<n>``
``POST /dreamactor/retarget_preview`` with the JSON body ``{"name", "frame", "count"}``

answer the bone editor with what DreamActor Bone Retarget wrote after it ran
(``models.retarget.preview``): 200 and JSON; 400 for a malformed request (unknown
parameter, a name that is not a preview name, a frame or count out of range, a body
that is not a small JSON object), 404 when the preview has expired. Only files in
``<temp>/dreamactor_retarget`` can ever be read, by names the node generates.
"""

from __future__ import annotations

import json
import logging

import folder_paths
from aiohttp import web

from ..models.retarget.preview import MAX_BODY_BYTES, PreviewRequestError, PreviewStore

ROUTE = "/dreamactor/retarget_preview"
STORE = PreviewStore(folder_paths.get_temp_directory)


def _error(e: PreviewRequestError) -> web.Response:
    return web.json_response({"error": str(e)}, status=e.status)


def _answer(params) -> web.Response:
    try:
        return web.json_response(STORE.answer(params))
    except PreviewRequestError as e:
        return _error(e)


async def get_preview(request: web.Request) -> web.Response:
    query = request.rel_url.query
    if any(len(query.getall(k)) > 1 for k in query):
        return _error(PreviewRequestError("each parameter may be given once"))
    return _answer(dict(query))


async def post_preview(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _error(PreviewRequestError(f"the request body is larger than {MAX_BODY_BYTES} bytes", status=413))
    body = await request.content.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _error(PreviewRequestError(f"the request body is larger than {MAX_BODY_BYTES} bytes", status=413))
    try:
        params = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # deep nesting is not a server error
        return _error(
            PreviewRequestError(
                "the request body is not JSON; send {\"name\": \"retarget_<node>_<hex>\", \"frame\": 0, \"count\": 1}"
            )
        )
    return _answer(params)


def register() -> bool:
    """Add the routes to the running host's server (once). False outside a server (tests, scripts)."""
    try:
        from server import PromptServer
    except ImportError:
        return False
    server = getattr(PromptServer, "instance", None)
    if server is None or getattr(server, "_dreamactor_routes", False):
        return False
    server.routes.get(ROUTE)(get_preview)
    server.routes.post(ROUTE)(post_preview)
    server._dreamactor_routes = True
    logging.info("ComfyUI-DreamActor: %s registered", ROUTE)
    return True
