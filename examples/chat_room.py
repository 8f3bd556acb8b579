"""A chat room over websockets: every message a member sends is broadcast to the members of its
room (circuits.http's "websocket protocol connections", with fasthttp's ``@app.websocket``).

``GET /`` is a small page that joins a room from the browser. ``/rooms/:room`` is the
websocket: the ``name`` query parameter is required (a handler refuses the upgrade with an HTTP
response before accepting: 400 here, 403 for a foreign ``Origin``), the room announces who joins
and who leaves, and a member's text messages go to everyone in the room as JSON
(``{"from": ..., "text": ...}``). A member that stops reading cannot hold the others back:
each broadcast gives every member its own bounded send (``send()`` waits while a peer does not
read, and the engine drops a peer that never does, see ``write_timeout``).

    python examples/chat_room.py --bind 127.0.0.1:8000
    open http://127.0.0.1:8000/   (or: python -m websockets "ws://127.0.0.1:8000/rooms/lobby?name=ada")
"""

from __future__ import annotations

import argparse
import asyncio

from fasthttp import App, HTMLResponse, Response, WebSocket, WebSocketDisconnect

PAGE = """<!doctype html>
<meta charset="utf-8"><title>fasthttp chat</title>
<form id="join">room <input id="room" value="lobby"> name <input id="name" value="guest">
<button>join</button></form>
<pre id="log"></pre>
<form id="say"><input id="text" size="60"><button>send</button></form>
<script>
let ws;
const log = (line) => document.getElementById("log").textContent += line + "\\n";
document.getElementById("join").onsubmit = (e) => {
  e.preventDefault();
  const room = encodeURIComponent(document.getElementById("room").value);
  const name = encodeURIComponent(document.getElementById("name").value);
  ws = new WebSocket(`ws://${location.host}/rooms/${room}?name=${name}`);
  ws.onmessage = (m) => { const d = JSON.parse(m.data); log(d.from ? `${d.from}: ${d.text}` : `* ${d.event}: ${d.name}`); };
};
document.getElementById("say").onsubmit = (e) => {
  e.preventDefault(); ws.send(document.getElementById("text").value); document.getElementById("text").value = "";
};
</script>
"""


class Rooms:
    """The members of each room (one process: a multi-worker deployment would use a broker)."""

    def __init__(self) -> None:
        self.members: dict[str, dict[WebSocket, str]] = {}

    async def broadcast(self, room: str, message: dict) -> None:
        members = list(self.members.get(room, {}))
        # Each member gets its own send, so a slow one does not delay the others; a member that
        # left in between is skipped.
        await asyncio.gather(*(self._send(ws, message) for ws in members))

    @staticmethod
    async def _send(ws: WebSocket, message: dict) -> None:
        try:
            await ws.send_json(message)
        except WebSocketDisconnect:
            pass


def create_app(allowed_origin: str | None = None) -> App:
    app = App()
    rooms = app.state.rooms = Rooms()

    @app.get("/")
    def page(request):
        return HTMLResponse(PAGE)

    @app.get("/rooms")
    def list_rooms(request):
        return {room: sorted(members.values()) for room, members in rooms.members.items() if members}

    @app.websocket("/rooms/:room")
    async def chat(ws: WebSocket):
        request = ws.request
        name = request.query_params.get("name", "").strip()
        origin = request.headers.get("origin")
        if allowed_origin is not None and origin is not None and origin != allowed_origin:
            return Response("foreign origin", 403)
        if not name:
            return Response("a name is required: ?name=...", 400)
        await ws.accept()
        room = request.params["room"]
        members = rooms.members.setdefault(room, {})
        members[ws] = name
        await rooms.broadcast(room, {"event": "join", "name": name})
        try:
            async for text in ws:
                if isinstance(text, str):
                    await rooms.broadcast(room, {"from": name, "text": text})
        finally:
            members.pop(ws, None)
            await rooms.broadcast(room, {"event": "leave", "name": name})

    return app


app = create_app()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT to listen on")
    parser.add_argument("--origin", default=None, help="the only Origin allowed to join (default: any)")
    args = parser.parse_args()
    create_app(args.origin).run(args.bind)
