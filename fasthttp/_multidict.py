"""An immutable, ordered multi-dict over ``(name, value)`` pairs: the shared base of
:class:`~fasthttp.requests.QueryParams` and :class:`~fasthttp.forms.FormData`.

Look-ups scan the pairs: query strings and forms are short, and a scan keeps the order and the
repeated names exactly as they were sent, without building an index nobody may ask for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ("MultiDict",)


class MultiDict:
    """``md["a"]`` and ``get("a")`` give the first value, ``getall("a")`` (or ``getlist("a")``) every value in order."""

    __slots__ = ("_items",)

    _items: list[tuple[str, Any]]

    def get(self, name: str, default: Any = None) -> Any:
        for k, v in self._items:
            if k == name:
                return v
        return default

    def getall(self, name: str) -> list[Any]:
        return [v for k, v in self._items if k == name]

    #: Starlette's and Werkzeug's spelling of :meth:`getall`.
    getlist = getall

    def __getitem__(self, name: str) -> Any:
        for k, v in self._items:
            if k == name:
                return v
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(k == name for k, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        """Each name once, in the order of its first appearance."""
        return list(dict.fromkeys(k for k, _ in self._items))

    def values(self) -> list[Any]:
        """The first value of each name."""
        return [self[k] for k in self.keys()]

    def items(self) -> list[tuple[str, Any]]:
        """Every ``(name, value)`` pair, repeated names included, in order."""
        return list(self._items)

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self._items == other._items
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"
