"""One process that draws every chart for the web processes (vl-convert loaded once, not in each).

vl-convert runs Vega in a JavaScript engine that costs each process that loads it about 80 MB.
`touchpoint serve` starts this renderer beside gunicorn (`python -m touchpoint.web.chart_renderer
SOCKET`) and the web processes send it their Vega-Lite specs over a Unix socket in the data folder;
only when no renderer answers (the development server, tests, a renderer that died) does a process
draw the chart itself, so a page never fails for want of the renderer.

The protocol is a 4-byte length and JSON each way: the request {"spec", "format_locale",
"time_format_locale"}, the answer {"svg"} or {"error"}. This module imports neither Django nor
Altair, so the renderer process stays small; the socket is readable by its owner only.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct(">I")
MAX_MESSAGE = 64 * 1024 * 1024  # a spec with its data, or an SVG: far more than any chart
TIMEOUT_SECONDS = 30.0


class RendererError(Exception):
    """The renderer could not draw the chart (its answer says why) or could not be reached."""


def _send(sock: socket.socket, payload: dict[str, Any]) -> None:
    body = orjson.dumps(payload)
    sock.sendall(_LENGTH.pack(len(body)) + body)


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("the connection closed mid-message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(sock: socket.socket) -> dict[str, Any]:
    (size,) = _LENGTH.unpack(_receive_exactly(sock, _LENGTH.size))
    if size > MAX_MESSAGE:
        raise ConnectionError(f"a message of {size} bytes is past the limit")
    answer = orjson.loads(_receive_exactly(sock, size))
    if not isinstance(answer, dict):
        raise ConnectionError("the message is not a JSON object")
    return answer


def draw(
    spec: dict[str, Any], *, format_locale: dict[str, Any] | None, time_format_locale: dict[str, Any] | None
) -> str:
    """The SVG of a Vega-Lite spec, drawn in this process (no locale, or an empty one: Vega's English)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(
        spec, format_locale=format_locale or None, time_format_locale=time_format_locale or None
    )


def draw_remote(
    path: str, spec: dict[str, Any], *, format_locale: dict[str, Any], time_format_locale: dict[str, Any]
) -> str:
    """The SVG drawn by the renderer listening at `path`; OSError when it cannot be reached."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT_SECONDS)
        sock.connect(path)
        _send(sock, {"spec": spec, "format_locale": format_locale, "time_format_locale": time_format_locale})
        answer = _receive(sock)
    if "svg" in answer and isinstance(answer["svg"], str):
        return answer["svg"]
    raise RendererError(str(answer.get("error", "the renderer gave no SVG")))


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(TIMEOUT_SECONDS)
        try:
            request = _receive(sock)
        except (OSError, ValueError) as error:
            logger.warning("chart renderer: unreadable request: %s", error)
            return
        try:
            svg = draw(
                request["spec"],
                format_locale=request.get("format_locale"),
                time_format_locale=request.get("time_format_locale"),
            )
        except Exception as error:  # a bad spec: the web process says so on its page
            _send(sock, {"error": f"{type(error).__name__}: {error}"})
            return
        _send(sock, {"svg": svg})


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve(path: str) -> None:
    """Warm vl-convert, then answer on the Unix socket `path` until SIGTERM (a stale socket file is replaced)."""
    draw(
        {
            "data": {"values": [{"x": 1}]},
            "mark": "bar",
            "encoding": {"x": {"field": "x", "type": "quantitative"}},
        },
        format_locale=None,
        time_format_locale=None,
    )
    socket_path = Path(path)
    socket_path.unlink(missing_ok=True)
    old_mask = os.umask(0o177)  # the socket file is created 0600: only the server's user may draw
    try:
        server = _Server(str(socket_path), _Handler)
    finally:
        os.umask(old_mask)

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    parent = os.getppid()

    def follow_parent() -> None:  # serve killed outright (no SIGTERM to pass on): stop with it
        while os.getppid() == parent:
            time.sleep(1.0)
        server.shutdown()

    threading.Thread(target=follow_parent, daemon=True).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        socket_path.unlink(missing_ok=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if len(sys.argv) != 2:
        sys.exit("usage: python -m touchpoint.web.chart_renderer SOCKET_PATH")
    serve(sys.argv[1])
