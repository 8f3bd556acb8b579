"""fasthttp.codecs: the codec registry, its default codecs, and produces/consumes through the App."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from fasthttp import App
from fasthttp.codecs import CodecRegistry, default_codecs, xml_encode
from fasthttp.testing import TestClient


@dataclasses.dataclass
class Item:
    id: int
    name: str


def make_app():
    app = App()

    @app.get("/item", produces=True)
    def item(request):
        return Item(7, "seven & <co>")

    @app.get("/pair", produces=["application/json", "application/xml"])
    def pair(request):
        return {"a": [1, 2], "b": None, "ok": True}

    @app.post("/in", consumes=True, produces=True)
    async def take(request):
        value = await app.codecs.decode(request)
        if isinstance(value, ET.Element):  # XML decodes to an element (defusedxml)
            value = {value[0].tag: value[0].text}
        return {"got": value}

    return app


@pytest.fixture
def client():
    with TestClient(make_app()) as c:
        yield c


def test_a_plain_value_in_the_representation_the_client_prefers(client):
    r = client.get("/item")
    assert r.headers["content-type"] == "application/json" and r.json() == {"id": 7, "name": "seven & <co>"}
    assert r.headers["vary"] == "Accept"
    r = client.get("/item", headers={"Accept": "application/xml"})
    assert r.headers["content-type"] == "application/xml"
    root = ET.fromstring(r.content)
    assert root.tag == "response" and root.find("name").text == "seven & <co>"
    r = client.get("/item", headers={"Accept": "text/plain"})
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.content == b"Item(id=7, name='seven & <co>')"
    r = client.get("/item", headers={"Accept": "application/x-www-form-urlencoded"})
    assert r.content == b"id=7&name=seven+%26+%3Cco%3E"
    # the codec's quality breaks a tie of client q-values: JSON (1.0) over XML (0.9)
    assert client.get("/item", headers={"Accept": "application/xml, application/json"}).headers["content-type"] == "application/json"
    assert client.get("/item", headers={"Accept": "image/png"}).status == 406


def test_an_explicit_produces_list_uses_the_codecs(client):
    r = client.get("/pair", headers={"Accept": "application/xml"})
    root = ET.fromstring(r.content)
    assert [i.text for i in root.find("a")] == ["1", "2"]
    assert root.find("b").get("null") == "true" and root.find("ok").text == "true"
    assert client.get("/pair").json() == {"a": [1, 2], "b": None, "ok": True}


def test_consumes_true_decodes_every_registered_type(client):
    assert client.post("/in", json={"x": 1}).json() == {"got": {"x": 1}}
    assert client.post("/in", form={"x": "1"}).json() == {"got": {"x": "1"}}
    xml = b"<?xml version='1.0'?><doc><x>1</x></doc>"
    r = client.post("/in", data=xml, headers={"Content-Type": "application/xml"})
    assert r.json() == {"got": {"x": "1"}}
    r = client.post("/in", data=b"hello", headers={"Content-Type": "text/plain"})
    assert r.json() == {"got": "hello"}
    r = client.post("/in", data=b"x", headers={"Content-Type": "image/png"})
    assert r.status == 415 and "application/json" in r.headers["accept"]
    r = client.post("/in", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status == 400
    r = client.post("/in", data=b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', headers={"Content-Type": "application/xml"})
    assert r.status == 400  # defusedxml: no DTDs


def test_a_registered_codec():
    app = make_app()

    def csv_encode(value):
        return "\n".join(",".join(str(c) for c in row) for row in value) + "\n"

    def csv_decode(data, params):
        text = data.decode(params.get("charset", "utf-8"))
        return [line.split(",") for line in text.splitlines()]

    app.codecs.register("text/csv", encode=csv_encode, decode=csv_decode, quality=0.8)

    @app.post("/table", consumes=["text/csv"], produces=["text/csv", "application/json"])
    async def table(request):
        rows = await app.codecs.decode(request, ("text/csv",))
        return [[c.upper() for c in row] for row in rows]

    with TestClient(app) as c:
        r = c.post("/table", data=b"a,b\nc,d\n", headers={"Content-Type": "text/csv", "Accept": "text/csv"})
        assert r.headers["content-type"] == "text/csv; charset=utf-8" and r.content == b"A,B\nC,D\n"
        r = c.post("/table", data=b"a,b\n", headers={"Content-Type": "text/csv", "Accept": "application/json"})
        assert r.json() == [["A", "B"]]
        r = c.post("/table", data=b"\xff", headers={"Content-Type": "text/csv"})
        assert r.status == 400
        r = c.post("/table", data=b"a", headers={"Content-Type": "text/csv", "Content-Encoding": "gzip"})
        assert r.status == 415


def test_registry_rules():
    reg = CodecRegistry()
    with pytest.raises(ValueError):
        reg.register("application/json")
    with pytest.raises(ValueError):
        reg.register("application/json", encode=str, quality=0)
    with pytest.raises(ValueError):
        reg.register("*/*", encode=str)
    reg.register("text/plain", encode=str)
    assert "text/plain" in reg and reg.encoder_types() == ("text/plain",) and reg.decoder_types() == ()
    assert reg.choose("application/json") is None
    reg.unregister("text/plain")
    assert "text/plain" not in reg
    codecs = default_codecs()
    assert codecs.encoder_types() == ("application/json", "application/xml", "application/x-www-form-urlencoded", "text/plain")
    assert codecs.respond("application/xml", {"k": 1}).body.startswith(b"<?xml")


def test_xml_encode_escapes_and_odd_keys():
    doc = ET.fromstring(xml_encode({"a b": "<&>", "xmlns": 1, "ctl": "\x00x", "list": [{"k": "v"}]}))
    entries = doc.findall("entry")
    assert [e.get("key") for e in entries] == ["a b", "xmlns"]
    assert entries[0].text == "<&>"
    assert doc.find("ctl").text == "\ufffdx"
    assert doc.find("list/item/k").text == "v"
    element = ET.Element("x")
    assert xml_encode(element).endswith(b"<x />")
