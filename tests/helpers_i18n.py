"""Write gettext .mo catalogs for the i18n tests (the GNU format, without the optional hash table)."""

from __future__ import annotations

import os
import struct

HEADER = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"


def write_mo(path: str, messages: dict[str, str], header: str = HEADER) -> None:
    """A .mo file at *path* mapping msgid -> msgstr; a plural msgid is ``"one\\0many"`` and its
    msgstr ``"form0\\0form1"`` (the format's own encoding)."""
    entries = sorted({"": header, **messages}.items())
    ids = [k.encode() for k, _ in entries]
    strs = [v.encode() for _, v in entries]
    n = len(entries)
    start = 7 * 4
    ids_table = start
    strs_table = ids_table + 8 * n
    data = strs_table + 8 * n
    id_offsets, blob = [], b""
    for s in ids:
        id_offsets.append((len(s), data + len(blob)))
        blob += s + b"\0"
    str_offsets = []
    for s in strs:
        str_offsets.append((len(s), data + len(blob)))
        blob += s + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, n, ids_table, strs_table, 0, 0)
    out += b"".join(struct.pack("<2I", *o) for o in id_offsets)
    out += b"".join(struct.pack("<2I", *o) for o in str_offsets)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(out + blob)


def make_localedir(root: str) -> str:
    """German, Austrian German and Brazilian Portuguese catalogs of a small 'messages' domain."""
    write_mo(os.path.join(root, "de", "LC_MESSAGES", "messages.mo"), {"Hello": "Hallo", "apple\0apples": "Apfel\0Äpfel"})
    write_mo(os.path.join(root, "de_AT", "LC_MESSAGES", "messages.mo"), {"Hello": "Servus"})
    write_mo(os.path.join(root, "pt_BR", "LC_MESSAGES", "messages.mo"), {"Hello": "Olá"})
    os.makedirs(os.path.join(root, "fr", "LC_MESSAGES"), exist_ok=True)  # no catalog: not offered
    return root
