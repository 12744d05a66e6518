"""The pack's HTTP routes on the host's server (prefixed /dreamactor/; the host mirrors them under /api).

``GET  /dreamactor/retarget_preview?name=<preview>&frame=<t>&count=<n>``
``POST /dreamactor/retarget_preview`` with the JSON body ``{"name", "frame", "count"}``

answer the bone editor with what DreamActor Bone Retarget wrote after it ran
(``models.retarget.preview``): 200 and JSON; 400 for a malformed request (unknown
parameter, a name that is not a preview name, a frame or count out of range, a body
that is not a small JSON object), 404 when the preview has expired. Only files in
``<temp>/dreamactor_retarget`` can ever be read, by names the node generates.

``POST /dreamactor/retarget_repose`` with ``{"name": <preview>, "bone_edits": <editor JSON>}``
re-runs that preview's retarget with new bone edits (the editor's "pose reference" mode:
joints of the reference placed by hand) and answers ``{"name": <new preview>}``; 400 for a
malformed request or bad edits, 404 when the run's stored inputs expired
(``models.retarget.preview_inputs``).
"""

from __future__ import annotations

import asyncio
import json
import logging

import folder_paths
from aiohttp import web

from ..models.retarget.preview import MAX_BODY_BYTES, PreviewRequestError, PreviewStore
from ..models.retarget.preview_inputs import MAX_REPOSE_BYTES

ROUTE = "/dreamactor/retarget_preview"
REPOSE_ROUTE = "/dreamactor/retarget_repose"
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


async def _json_body(request: web.Request, limit: int, example: str):
    """The request's JSON body, or an error response (413 too large, 400 not JSON)."""
    if request.content_length is not None and request.content_length > limit:
        return None, _error(PreviewRequestError(f"the request body is larger than {limit} bytes", status=413))
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        return None, _error(PreviewRequestError(f"the request body is larger than {limit} bytes", status=413))
    try:
        return json.loads(body.decode("utf-8")), None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # deep nesting is not a server error
        return None, _error(PreviewRequestError(f"the request body is not JSON; send {example}"))


async def post_preview(request: web.Request) -> web.Response:
    params, error = await _json_body(
        request, MAX_BODY_BYTES, '{"name": "retarget_<node>_<hex>", "frame": 0, "count": 1}'
    )
    return error or _answer(params)


async def post_repose(request: web.Request) -> web.Response:
    from .retarget import repose  # the node module (imported lazily: routes load with the pack)

    params, error = await _json_body(
        request, MAX_REPOSE_BYTES, '{"name": "retarget_<node>_<hex>", "bone_edits": "{...}"}'
    )
    if error:
        return error
    try:  # a retarget takes milliseconds to a second: off the event loop
        return web.json_response(await asyncio.get_running_loop().run_in_executor(None, repose, params, STORE))
    except PreviewRequestError as e:
        return _error(e)


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
    server.routes.post(REPOSE_ROUTE)(post_repose)
    server._dreamactor_routes = True
    logging.info("ComfyUI-DreamActor: %s registered", ROUTE)
    return True
