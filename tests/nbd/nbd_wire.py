# SPDX-License-Identifier: MIT
"""A small NBD client on a raw socket, for the protocol tests: it does the
fixed newstyle handshake itself and speaks requests and replies (simple and
structured) byte by byte, so that tests can also say what a real client
never would.  Constants from the NBD protocol (doc/proto.md of
NetworkBlockDevice/nbd; docs/spec/data-path.md §1).  Standard library only.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from dataclasses import dataclass, field
from typing import Optional

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "blockdev"))

from blockd_harness import TIMEOUT  # noqa: E402

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPLY_MAGIC = 0x3E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698
STRUCTURED_REPLY_MAGIC = 0x668E33EF

FLAG_FIXED_NEWSTYLE = 1 << 0
FLAG_NO_ZEROES = 1 << 1

OPT_EXPORT_NAME = 1
OPT_ABORT = 2
OPT_LIST = 3
OPT_STARTTLS = 5
OPT_INFO = 6
OPT_GO = 7
OPT_STRUCTURED_REPLY = 8
OPT_LIST_META_CONTEXT = 9
OPT_SET_META_CONTEXT = 10

REP_ACK = 1
REP_SERVER = 2
REP_INFO = 3
REP_META_CONTEXT = 4
REP_ERR_UNSUP = 0x80000001
REP_ERR_POLICY = 0x80000002
REP_ERR_INVALID = 0x80000003
REP_ERR_UNKNOWN = 0x80000006

INFO_EXPORT = 0
INFO_NAME = 1
INFO_DESCRIPTION = 2
INFO_BLOCK_SIZE = 3

TF_HAS_FLAGS = 1 << 0
TF_READ_ONLY = 1 << 1
TF_SEND_FLUSH = 1 << 2
TF_SEND_FUA = 1 << 3
TF_SEND_TRIM = 1 << 5
TF_SEND_WRITE_ZEROES = 1 << 6
TF_SEND_DF = 1 << 7

CMD_READ = 0
CMD_WRITE = 1
CMD_DISC = 2
CMD_FLUSH = 3
CMD_TRIM = 4
CMD_CACHE = 5
CMD_WRITE_ZEROES = 6
CMD_BLOCK_STATUS = 7

CMD_FLAG_FUA = 1 << 0
CMD_FLAG_NO_HOLE = 1 << 1
CMD_FLAG_DF = 1 << 2
CMD_FLAG_REQ_ONE = 1 << 3
CMD_FLAG_FAST_ZERO = 1 << 4

REPLY_FLAG_DONE = 1 << 0
REPLY_TYPE_NONE = 0
REPLY_TYPE_OFFSET_DATA = 1
REPLY_TYPE_OFFSET_HOLE = 2
REPLY_TYPE_BLOCK_STATUS = 5
REPLY_TYPE_ERROR = 32769
REPLY_TYPE_ERROR_OFFSET = 32770

STATE_HOLE = 1 << 0
STATE_ZERO = 1 << 1

EPERM = 1
EINVAL = 22
ENOSPC = 28
EOVERFLOW = 75
ENOTSUP = 95

MAX_REQUEST = 32 << 20


class Closed(Exception):
    """The server closed the connection."""


@dataclass
class OptionReply:
    option: int
    type: int
    data: bytes


@dataclass
class Chunk:
    flags: int
    type: int
    payload: bytes


@dataclass
class Reply:
    cookie: int
    error: int
    structured: bool
    data: bytes = b""
    chunks: list[Chunk] = field(default_factory=list)

    def extents(self) -> list[tuple[int, int, int]]:
        """The BLOCK_STATUS descriptors: (context id, length, flags)."""
        out: list[tuple[int, int, int]] = []
        for chunk in self.chunks:
            if chunk.type != REPLY_TYPE_BLOCK_STATUS:
                continue
            context_id = struct.unpack(">I", chunk.payload[:4])[0]
            body = chunk.payload[4:]
            for i in range(0, len(body), 8):
                length, flags = struct.unpack(">II", body[i:i + 8])
                out.append((context_id, length, flags))
        return out


def connect(address: str) -> socket.socket:
    """A socket connected to ADDRESS, as the daemon prints it."""
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        try:
            sock.connect(address[len("unix:"):])
        except OSError:
            sock.close()
            raise
        return sock
    assert address.startswith("tcp:"), address
    host, port = address[len("tcp:"):].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    return sock


class NbdClient:
    """One connection.  Construction reads the greeting; handshake()
    sends the client flags.  Nothing is hidden: every step can be done
    wrongly on purpose."""

    def __init__(self, address: str) -> None:
        self.sock = connect(address)
        self.buffer = b""
        self.structured = False
        # cookie: command, offset, length
        self.pending: dict[int, tuple[int, int, int]] = {}
        self.partial: dict[int, Reply] = {}
        self.done: dict[int, Reply] = {}
        try:
            greeting = self.recv_exact(18)
        except Closed:
            self.sock.close()
            raise
        magic, opt_magic, self.handshake_flags = struct.unpack(
            ">QQH", greeting)
        if magic != NBDMAGIC or opt_magic != IHAVEOPT:
            raise AssertionError(f"bad greeting {magic:#x} {opt_magic:#x}")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> NbdClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Bytes.
    def recv_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            try:
                chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            except ConnectionResetError as e:
                raise Closed(str(e)) from e
            if not chunk:
                raise Closed(f"EOF after {len(self.buffer)} of {n} bytes")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def wait_closed(self, timeout: float = TIMEOUT) -> bool:
        """True once the server closes (EOF or reset) within TIMEOUT,
        dropping whatever else arrives."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(TIMEOUT)

    # Handshake.
    def handshake(self, flags: int = FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES
                  ) -> None:
        self.send(struct.pack(">I", flags))

    def send_option(self, option: int, data: bytes = b"",
                    magic: int = IHAVEOPT) -> None:
        self.send(struct.pack(">QII", magic, option, len(data)) + data)

    def read_option_reply(self) -> OptionReply:
        magic, option, rtype, length = struct.unpack(
            ">QIII", self.recv_exact(20))
        if magic != REPLY_MAGIC:
            raise AssertionError(f"bad option reply magic {magic:#x}")
        return OptionReply(option, rtype, self.recv_exact(length))

    def option(self, option: int, data: bytes = b"") -> list[OptionReply]:
        """Send OPTION; its replies up to the final one (ACK or error)."""
        self.send_option(option, data)
        replies: list[OptionReply] = []
        while True:
            reply = self.read_option_reply()
            if reply.option != option:
                raise AssertionError(f"reply to {reply.option} for {option}")
            replies.append(reply)
            if reply.type == REP_ACK or reply.type & 0x80000000:
                return replies

    @staticmethod
    def info_request(name: str, infos: tuple[int, ...] = ()) -> bytes:
        raw = name.encode()
        return (struct.pack(">I", len(raw)) + raw
                + struct.pack(">H", len(infos))
                + b"".join(struct.pack(">H", i) for i in infos))

    def structured_reply(self) -> None:
        replies = self.option(OPT_STRUCTURED_REPLY)
        assert replies[-1].type == REP_ACK, replies
        self.structured = True

    def meta_context(self, option: int, name: str,
                     queries: tuple[str, ...]) -> list[OptionReply]:
        raw = name.encode()
        data = struct.pack(">I", len(raw)) + raw + struct.pack(
            ">I", len(queries))
        for query in queries:
            data += struct.pack(">I", len(query)) + query.encode()
        return self.option(option, data)

    def go(self, name: str, infos: tuple[int, ...] = ()) -> tuple[int, int]:
        """GO into NAME: (size, transmission flags)."""
        replies = self.option(OPT_GO, self.info_request(name, infos))
        if replies[-1].type != REP_ACK:
            raise AssertionError(f"GO {name!r} failed: {replies[-1]}")
        for reply in replies:
            if reply.type == REP_INFO and reply.data[:2] == b"\0\0":
                size, flags = struct.unpack(">QH", reply.data[2:12])
                self.size = size
                return size, flags
        raise AssertionError(f"GO {name!r}: no INFO_EXPORT in {replies}")

    def open(self, name: str, structured: bool = True,
             meta: bool = False) -> tuple[int, int]:
        """The whole handshake into export NAME."""
        self.handshake()
        if structured:
            self.structured_reply()
        if meta:
            replies = self.meta_context(OPT_SET_META_CONTEXT, name,
                                        ("base:allocation",))
            assert replies[-1].type == REP_ACK, replies
            assert len(replies) == 2, replies
            self.meta_id = struct.unpack(">I", replies[0].data[:4])[0]
        return self.go(name)

    # Transmission.
    def request(self, cmd: int, cookie: int, offset: int = 0,
                length: int = 0, flags: int = 0, data: bytes = b"",
                magic: int = REQUEST_MAGIC) -> None:
        self.pending[cookie] = (cmd, offset, length)
        self.send(struct.pack(">IHHQQI", magic, flags, cmd, cookie, offset,
                              length) + data)

    def _read_one(self) -> None:
        """Read one simple reply or one structured chunk."""
        magic = struct.unpack(">I", self.recv_exact(4))[0]
        if magic == SIMPLE_REPLY_MAGIC:
            error, cookie = struct.unpack(">IQ", self.recv_exact(12))
            cmd, _, length = self.pending.pop(cookie)
            data = b""
            if cmd == CMD_READ and error == 0:
                data = self.recv_exact(length)
            self.done[cookie] = Reply(cookie, error, False, data)
            return
        if magic != STRUCTURED_REPLY_MAGIC:
            raise AssertionError(f"bad reply magic {magic:#x}")
        flags, rtype, cookie, length = struct.unpack(
            ">HHQI", self.recv_exact(16))
        payload = self.recv_exact(length)
        cmd, req_offset, req_len = self.pending[cookie]
        reply = self.partial.setdefault(cookie, Reply(cookie, 0, True))
        if cmd == CMD_READ and not reply.data:
            reply.data = bytes(req_len)
        reply.chunks.append(Chunk(flags, rtype, payload))
        if rtype in (REPLY_TYPE_ERROR, REPLY_TYPE_ERROR_OFFSET):
            reply.error = struct.unpack(">I", payload[:4])[0]
        elif rtype == REPLY_TYPE_OFFSET_DATA:
            offset = struct.unpack(">Q", payload[:8])[0] - req_offset
            body = payload[8:]
            reply.data = (reply.data[:offset] + body
                          + reply.data[offset + len(body):])
        if flags & REPLY_FLAG_DONE:
            del self.pending[cookie]
            self.done[cookie] = self.partial.pop(cookie)

    def reply(self, cookie: Optional[int] = None) -> Reply:
        """The complete reply for COOKIE (or the next to complete)."""
        while True:
            if cookie is None and self.done:
                return self.done.pop(next(iter(self.done)))
            if cookie is not None and cookie in self.done:
                return self.done.pop(cookie)
            self._read_one()

    def call(self, cmd: int, offset: int = 0, length: int = 0,
             flags: int = 0, data: bytes = b"", cookie: int = 1) -> Reply:
        self.request(cmd, cookie, offset, length, flags, data)
        return self.reply(cookie)

    def read(self, offset: int, length: int, flags: int = 0) -> Reply:
        return self.call(CMD_READ, offset, length, flags)

    def write(self, offset: int, data: bytes, flags: int = 0) -> Reply:
        return self.call(CMD_WRITE, offset, len(data), flags, data)

    def disconnect(self) -> None:
        self.request(CMD_DISC, 0xD15C)
        self.pending.pop(0xD15C, None)
