"""A FastAPI application for tests/test_asgi.py.

NOTE: FastAPI reads the endpoints' annotations at run time, so this module does not use
``from __future__ import annotations`` (string annotations of local names would not resolve).
"""

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float


def fastapi_app() -> FastAPI:
    """JSON with a validated body (422 on a bad one), a streamed echo of the request body, a
    ``def`` endpoint (run by FastAPI in anyio's thread pool), and a websocket echo with a path
    parameter and a subprotocol."""
    app = FastAPI()

    @app.post("/items/{item_id}")
    async def create(item_id: int, item: Item):
        return {"id": item_id, "name": item.name, "price": item.price}

    @app.post("/echo")
    async def echo(request: Request):
        async def gen():
            async for chunk in request.stream():
                yield chunk

        return StreamingResponse(gen(), media_type="application/octet-stream")

    @app.get("/sync")
    def sync():
        return {"sync": True}

    @app.websocket("/ws/{name}")
    async def ws_echo(websocket: WebSocket, name: str):
        await websocket.accept(subprotocol="chat" if "chat" in websocket.scope["subprotocols"] else None)
        await websocket.send_json({"hello": name})
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") is not None:
                    await websocket.send_text(message["text"])
                else:
                    await websocket.send_bytes(message["bytes"])
        except WebSocketDisconnect:
            return

    return app
