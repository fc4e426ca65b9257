"""uvicorn's httptools protocol with a bound on the request line and headers.

httptools keeps a request's head in memory until it is complete and uvicorn sets no limit, so
one client sending a header of many megabytes can hold a core and grow memory without bound.
Past MAX_REQUEST_HEADER_BYTES (16 KiB, as h11 and Node.js; the variable changes it) the request
is answered 431 and its connection closed.
`wheelbase-serve` serves with it (serve.py).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from . import settings

MAX_REQUEST_HEADER_BYTES = int(settings.get("MAX_REQUEST_HEADER_BYTES"))
RESPONSE_431 = (b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                b"content-type: text/plain; charset=utf-8\r\ncontent-length: 31\r\n"
                b"connection: close\r\n\r\nRequest header fields too large")


class HeaderTooLarge(Exception):
    """Raised from a parser callback; httptools reports it as a parser error."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that answers 431 once a request's head passes MAX_REQUEST_HEADER_BYTES."""

    in_head = True  # the current request's head is not complete yet
    head_received = 0  # bytes received while it was not
    head_fields = 0  # bytes of its request line and header fields
    too_large = False

    def data_received(self, data: bytes) -> None:
        """Counts what an incomplete head has sent (httptools buffers it until it is whole)."""
        was_in_head = self.in_head
        super().data_received(data)
        if was_in_head and self.in_head and not self.too_large:
            self.head_received += len(data)
            if self.head_received > MAX_REQUEST_HEADER_BYTES:
                self.too_large = True
                self.send_400_response("")

    def on_message_begin(self) -> None:
        self.in_head, self.head_received, self.head_fields = True, 0, 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self.count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.count(len(name) + len(value))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.in_head = False
        super().on_headers_complete()

    def count(self, size: int) -> None:
        """Also bounds a head that arrived whole in one read."""
        self.head_fields += size
        if self.head_fields > MAX_REQUEST_HEADER_BYTES:
            self.too_large = True
            raise HeaderTooLarge()

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers a parser error with 400; a head that is too large gets 431."""
        if not self.too_large:
            super().send_400_response(msg)
            return
        self.transport.write(RESPONSE_431)
        self.transport.close()
