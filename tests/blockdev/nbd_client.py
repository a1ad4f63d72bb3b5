# SPDX-License-Identifier: MIT
"""A minimal NBD client for the block tests: fixed newstyle, NBD_OPT_GO,
simple replies, one request at a time (several connections give
concurrency).  Standard library only.
"""

from __future__ import annotations

import socket
import struct

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPLY_MAGIC = 0x3E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698

OPT_GO = 7
REP_ACK = 1
REP_INFO = 3
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH = 0, 1, 2, 3
FLAG_FUA = 1


class NbdError(Exception):
    """A request got an error reply."""

    def __init__(self, errno: int) -> None:
        super().__init__(f"NBD error {errno}")
        self.errno = errno


class NbdClient:
    """One connection to the export NAME on the unix socket PATH."""

    def __init__(self, path: str, name: str, timeout: float = 60) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.cookie = 0
        magic, opt_magic, _flags = struct.unpack(">QQH", self._recv(18))
        if magic != NBDMAGIC or opt_magic != IHAVEOPT:
            raise AssertionError("not an NBD server")
        self.sock.sendall(struct.pack(">I", 3))  # FIXED_NEWSTYLE|NO_ZEROES
        data = struct.pack(">I", len(name)) + name.encode() + struct.pack(">H", 0)
        self.sock.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, len(data)) + data)
        self.size = -1
        while True:
            _magic, _opt, rtype, length = struct.unpack(">QIII", self._recv(20))
            payload = self._recv(length)
            if rtype == REP_ACK:
                break
            if rtype == REP_INFO and struct.unpack(">H", payload[:2])[0] == 0:
                self.size = struct.unpack(">Q", payload[2:10])[0]
            elif rtype & 0x80000000:
                raise AssertionError(f"GO refused: {rtype:#x} {payload!r}")

    def _recv(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("the server closed the connection")
            data += chunk
        return data

    def _request(self, cmd: int, offset: int, length: int, flags: int = 0,
                 data: bytes = b"") -> bytes:
        self.cookie += 1
        self.sock.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, flags, cmd,
                                      self.cookie, offset, length) + data)
        magic, error, cookie = struct.unpack(">IIQ", self._recv(16))
        if magic != SIMPLE_REPLY_MAGIC or cookie != self.cookie:
            raise AssertionError(f"bad reply {magic:#x} {cookie}")
        if error:
            raise NbdError(error)
        return self._recv(length) if cmd == CMD_READ else b""

    def read(self, offset: int, length: int) -> bytes:
        return self._request(CMD_READ, offset, length)

    def write(self, offset: int, data: bytes, fua: bool = False) -> None:
        self._request(CMD_WRITE, offset, len(data),
                      FLAG_FUA if fua else 0, data)

    def flush(self) -> None:
        self._request(CMD_FLUSH, 0, 0)

    def close(self) -> None:
        try:
            self.sock.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, 0,
                                          CMD_DISC, 0, 0, 0))
        except OSError:
            pass
        self.sock.close()
