"""Type stubs for the compiled socket I/O kernel (twin of ``fasthttp._pure.sockio``)."""

__all__ = ("send_more", "send_now", "send_and_shutdown", "bound_backlog")

def send_more(fd: int, data: bytes) -> int:
    """Send *data* on *fd* with ``MSG_MORE``; return the bytes sent (0 when the socket is full)."""

def send_now(fd: int, data: bytes) -> int:
    """Send *data* on *fd* now (``MSG_DONTWAIT``, no ``MSG_MORE``); return the bytes sent (0 when
    the socket is full)."""

def send_and_shutdown(fd: int, data: bytes) -> int:
    """Send *data* on *fd* with ``MSG_MORE`` and, when all of it went, ``shutdown(SHUT_WR)``."""

def bound_backlog(fd: int, lowat: int) -> bool:
    """Set ``TCP_NOTSENT_LOWAT`` on *fd*; return whether it was set."""
