# SPDX-License-Identifier: MIT
"""The NBD server on the wire, through a raw-socket client (nbd_wire.py)
doing the handshake itself: options and their errors, transmission
commands and their errors, simple and structured replies, pipelining,
DISC with requests in flight, and clients that misbehave (bad magic, a
silent client) without hurting the others.  docs/spec/data-path.md §1.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "blockdev"))

import nbd_wire as w  # noqa: E402
from blockd_harness import main as harness_main  # noqa: E402
from blockd_harness import TIMEOUT, BlockdTestCase, Daemon  # noqa: E402

RW_SIZE = 64 << 20          # sparse: more than the 32 MiB maximum request
RO_SIZE = 1 << 20
Q_SIZE = 4 << 20


class ProtocolTest(BlockdTestCase):

    def setUp(self) -> None:
        super().setUp()
        rw = self.path("rw.raw")
        with open(rw, "wb") as f:
            f.truncate(RW_SIZE)
        ro = self.make_raw("ro.raw", 0x5A)
        q = self.path("q.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", q,
                        str(Q_SIZE)], check=True, timeout=TIMEOUT)
        self.daemon: Daemon = self.start(
            [("rw", rw, "raw"), ("ro", ro, "raw,read-only=on"),
             ("q", q, "qcow2")],
            extra_args=["--nbd", f"unix:{self.path('nbd.sock')}",
                        "--export", "nbd,id=e-rw,node-name=rw,writable=on",
                        "--export", "nbd,id=e-ro,node-name=ro,"
                        "description=read only disk",
                        "--export", "nbd,id=e-q,node-name=q,writable=on"])
        assert self.daemon.nbd_address is not None
        self.address: str = self.daemon.nbd_address
        self.conns: list[w.NbdClient] = []

    def tearDown(self) -> None:
        for conn in self.conns:
            conn.close()
        super().tearDown()

    def client(self) -> w.NbdClient:
        conn = w.NbdClient(self.address)
        self.conns.append(conn)
        return conn

    def opened(self, name: str = "rw", structured: bool = True,
               meta: bool = False) -> w.NbdClient:
        conn = self.client()
        conn.open(name, structured=structured, meta=meta)
        return conn

    def assert_served(self) -> None:
        """Another connection still works end to end."""
        conn = self.opened()
        reply = conn.write(4096, b"still here")
        self.assertEqual(reply.error, 0)
        reply = conn.read(4096, 10)
        self.assertEqual((reply.error, reply.data), (0, b"still here"))

    # Handshake.

    def test_greeting(self) -> None:
        conn = self.client()
        self.assertEqual(conn.handshake_flags,
                         w.FLAG_FIXED_NEWSTYLE | w.FLAG_NO_ZEROES)

    def test_bad_option_magic_closes_only_that_connection(self) -> None:
        conn = self.client()
        conn.handshake()
        conn.send_option(w.OPT_LIST, magic=0x1122334455667788)
        self.assertTrue(conn.wait_closed())
        self.assert_served()

    def test_bad_request_magic_closes_only_that_connection(self) -> None:
        conn = self.opened()
        self.assertEqual(conn.write(0, b"abc").error, 0)
        conn.request(w.CMD_READ, 7, 0, 3, magic=0x12345678)
        self.assertTrue(conn.wait_closed())
        self.assert_served()

    def test_unknown_option_unsup(self) -> None:
        conn = self.client()
        conn.handshake()
        replies = conn.option(42, b"junk")
        self.assertEqual(len(replies), 1)
        self.assertEqual(replies[0].type, w.REP_ERR_UNSUP)
        # The session goes on.
        size, _ = conn.go("rw")
        self.assertEqual(size, RW_SIZE)

    def test_starttls_policy(self) -> None:
        conn = self.client()
        conn.handshake()
        replies = conn.option(w.OPT_STARTTLS)
        self.assertEqual([r.type for r in replies], [w.REP_ERR_POLICY])
        self.assertEqual(conn.go("rw")[0], RW_SIZE)

    def test_abort_acked_then_closed(self) -> None:
        conn = self.client()
        conn.handshake()
        replies = conn.option(w.OPT_ABORT)
        self.assertEqual([r.type for r in replies], [w.REP_ACK])
        self.assertTrue(conn.wait_closed())

    def test_export_name_missing_closes(self) -> None:
        conn = self.client()
        conn.handshake()
        conn.send_option(w.OPT_EXPORT_NAME, b"no-such-export")
        self.assertTrue(conn.wait_closed())
        self.assert_served()

    def test_export_name_present(self) -> None:
        for no_zeroes, length in ((True, 10), (False, 134)):
            conn = self.client()
            flags = w.FLAG_FIXED_NEWSTYLE
            if no_zeroes:
                flags |= w.FLAG_NO_ZEROES
            conn.handshake(flags)
            conn.send_option(w.OPT_EXPORT_NAME, b"ro")
            reply = conn.recv_exact(length)
            size, tflags = struct.unpack(">QH", reply[:10])
            self.assertEqual(size, RO_SIZE)
            self.assertTrue(tflags & w.TF_HAS_FLAGS)
            self.assertTrue(tflags & w.TF_READ_ONLY)
            self.assertEqual(reply[10:], bytes(length - 10))
            conn.request(w.CMD_READ, 1, 0, 4)
            reply2 = conn.reply(1)
            self.assertEqual((reply2.error, reply2.data), (0, b"ZZZZ"))

    def test_go_missing_unknown(self) -> None:
        conn = self.client()
        conn.handshake()
        replies = conn.option(w.OPT_GO, conn.info_request("nope"))
        self.assertEqual([r.type for r in replies], [w.REP_ERR_UNKNOWN])
        replies = conn.option(w.OPT_INFO, conn.info_request("nope"))
        self.assertEqual([r.type for r in replies], [w.REP_ERR_UNKNOWN])
        # Still in option haggling: a good GO works.
        self.assertEqual(conn.go("ro")[0], RO_SIZE)

    def test_info_reply_fields(self) -> None:
        conn = self.client()
        conn.handshake()
        replies = conn.option(
            w.OPT_INFO, conn.info_request(
                "ro", (w.INFO_NAME, w.INFO_DESCRIPTION, w.INFO_BLOCK_SIZE)))
        self.assertEqual(replies[-1].type, w.REP_ACK)
        infos: dict[int, bytes] = {}
        for reply in replies[:-1]:
            self.assertEqual(reply.type, w.REP_INFO)
            kind = struct.unpack(">H", reply.data[:2])[0]
            infos[kind] = reply.data[2:]
        self.assertIn(w.INFO_EXPORT, infos)
        size, flags = struct.unpack(">QH", infos[w.INFO_EXPORT])
        self.assertEqual(size, RO_SIZE)
        self.assertTrue(flags & w.TF_HAS_FLAGS)
        self.assertTrue(flags & w.TF_READ_ONLY)
        self.assertIn(w.INFO_BLOCK_SIZE, infos)
        self.assertEqual(struct.unpack(">III", infos[w.INFO_BLOCK_SIZE]),
                         (1, 4096, 32 << 20))
        if w.INFO_NAME in infos:
            self.assertEqual(infos[w.INFO_NAME], b"ro")
        if w.INFO_DESCRIPTION in infos:
            self.assertEqual(infos[w.INFO_DESCRIPTION], b"read only disk")
        # INFO leaves the client in option haggling; GO of rw works.
        size, flags = conn.go("rw", (w.INFO_BLOCK_SIZE,))
        self.assertEqual(size, RW_SIZE)
        self.assertFalse(flags & w.TF_READ_ONLY)
        for bit in (w.TF_SEND_FLUSH, w.TF_SEND_FUA, w.TF_SEND_TRIM,
                    w.TF_SEND_WRITE_ZEROES):
            self.assertTrue(flags & bit, hex(flags))

    def test_malformed_and_oversized_options(self) -> None:
        conn = self.client()
        conn.handshake()
        go = conn.info_request("rw")
        for data in (go + b"zz", b"\0\0", b"\xff\xff\xff\xf0abc\0\0"):
            replies = conn.option(w.OPT_GO, data)
            self.assertEqual([r.type for r in replies], [w.REP_ERR_INVALID])
        replies = conn.option(w.OPT_LIST, b"x")
        self.assertEqual([r.type for r in replies], [w.REP_ERR_INVALID])
        # Option data too large: read and dropped, TOO_BIG.
        replies = conn.option(w.OPT_LIST, b"x" * 100000)
        self.assertEqual([r.type for r in replies], [0x80000009])
        # SET_META_CONTEXT before STRUCTURED_REPLY: INVALID; on a missing
        # export: UNKNOWN.
        replies = conn.meta_context(w.OPT_SET_META_CONTEXT, "rw",
                                    ("base:allocation",))
        self.assertEqual([r.type for r in replies], [w.REP_ERR_INVALID])
        replies = conn.meta_context(w.OPT_LIST_META_CONTEXT, "zz", ())
        self.assertEqual([r.type for r in replies], [w.REP_ERR_UNKNOWN])
        self.assertEqual(conn.go("rw")[0], RW_SIZE)

    def test_meta_context_is_for_its_export(self) -> None:
        """base:allocation chosen for rw does not carry over to a GO into
        q: BLOCK_STATUS there is EINVAL."""
        conn = self.client()
        conn.handshake()
        conn.structured_reply()
        replies = conn.meta_context(w.OPT_SET_META_CONTEXT, "rw",
                                    ("base:allocation",))
        self.assertEqual(replies[-1].type, w.REP_ACK)
        conn.go("q")
        self.assertEqual(conn.call(w.CMD_BLOCK_STATUS, 0, 4096).error,
                         w.EINVAL)
        self.assertEqual(conn.read(0, 4).error, 0)

    def test_list(self) -> None:
        conn = self.client()
        conn.handshake()
        replies = conn.option(w.OPT_LIST)
        self.assertEqual(replies[-1].type, w.REP_ACK)
        names = set()
        for reply in replies[:-1]:
            self.assertEqual(reply.type, w.REP_SERVER)
            length = struct.unpack(">I", reply.data[:4])[0]
            names.add(reply.data[4:4 + length].decode())
        self.assertEqual(names, {"rw", "ro", "q"})
        self.assertEqual(replies[-1].data, b"")

    def test_meta_context_and_block_status(self) -> None:
        conn = self.client()
        conn.handshake()
        conn.structured_reply()
        listed = conn.meta_context(w.OPT_LIST_META_CONTEXT, "rw", ())
        self.assertEqual(listed[-1].type, w.REP_ACK)
        self.assertIn(b"base:allocation",
                      [r.data[4:] for r in listed[:-1]])
        listed = conn.meta_context(w.OPT_LIST_META_CONTEXT, "rw",
                                   ("base:allocation", "qemu:nope"))
        self.assertEqual([r.data[4:] for r in listed[:-1]],
                         [b"base:allocation"])
        chosen = conn.meta_context(w.OPT_SET_META_CONTEXT, "rw",
                                   ("base:allocation",))
        self.assertEqual([r.type for r in chosen],
                         [w.REP_META_CONTEXT, w.REP_ACK])
        context_id = struct.unpack(">I", chosen[0].data[:4])[0]
        self.assertEqual(chosen[0].data[4:], b"base:allocation")
        conn.go("rw")
        # Data at [1 MiB, 1 MiB + 64 KiB); the rest of the sparse file a hole.
        self.assertEqual(conn.write(1 << 20, b"\x01" * 65536).error, 0)
        self.assertEqual(conn.call(w.CMD_FLUSH).error, 0)
        reply = conn.call(w.CMD_BLOCK_STATUS, 0, 4 << 20)
        self.assertEqual(reply.error, 0)
        extents = reply.extents()
        self.assertTrue(extents)
        self.assertTrue(all(e[0] == context_id for e in extents))
        self.assertLessEqual(sum(e[1] for e in extents), 4 << 20)
        # Walk the extents: the written range is data, [0, 1 MiB) a hole.
        pos = 0
        for _, length, flags in extents:
            if pos < (1 << 20):
                self.assertEqual(flags & w.STATE_HOLE, w.STATE_HOLE,
                                 (pos, extents))
            if pos >= (1 << 20) and pos + length <= (1 << 20) + 65536:
                self.assertEqual(flags & w.STATE_HOLE, 0, (pos, extents))
            pos += length
        self.assertGreater(pos, 1 << 20)
        # REQ_ONE: one descriptor.
        reply = conn.call(w.CMD_BLOCK_STATUS, 1 << 20, 2 << 20,
                          flags=w.CMD_FLAG_REQ_ONE)
        self.assertEqual(reply.error, 0)
        extents = reply.extents()
        self.assertEqual(len(extents), 1, extents)
        self.assertEqual(extents[0][2] & w.STATE_HOLE, 0)
        self.assertLessEqual(extents[0][1], 2 << 20)
        # Beyond the end and zero length: EINVAL.
        reply = conn.call(w.CMD_BLOCK_STATUS, RW_SIZE - 512, 1024)
        self.assertEqual(reply.error, w.EINVAL)
        reply = conn.call(w.CMD_BLOCK_STATUS, 0, 0)
        self.assertEqual(reply.error, w.EINVAL)

    def test_block_status_without_context_einval(self) -> None:
        conn = self.opened()
        reply = conn.call(w.CMD_BLOCK_STATUS, 0, 4096)
        self.assertEqual(reply.error, w.EINVAL)
        self.assertEqual(conn.read(0, 4).error, 0)

    # Transmission errors.

    def test_out_of_range(self) -> None:
        for structured in (False, True):
            conn = self.opened(structured=structured)
            self.assertEqual(conn.read(RW_SIZE - 10, 20).error, w.EINVAL)
            self.assertEqual(conn.write(RW_SIZE - 10, b"x" * 20).error,
                             w.ENOSPC)
            self.assertEqual(conn.call(w.CMD_WRITE_ZEROES, RW_SIZE, 1).error,
                             w.ENOSPC)
            self.assertEqual(conn.call(w.CMD_TRIM, RW_SIZE, 4096).error,
                             w.EINVAL)
            self.assertEqual(conn.call(w.CMD_CACHE, RW_SIZE - 1, 2).error,
                             w.EINVAL)
            # Offset + length wrapping around 2^64.
            self.assertEqual(conn.read((1 << 64) - 4, 8).error, w.EINVAL)
            # The last byte is fine.
            self.assertEqual(conn.write(RW_SIZE - 1, b"E").error, 0)
            self.assertEqual(conn.read(RW_SIZE - 1, 1).data, b"E")

    def test_read_only_eperm(self) -> None:
        conn = self.opened("ro")
        self.assertEqual(conn.write(0, b"nope").error, w.EPERM)
        self.assertEqual(conn.call(w.CMD_TRIM, 0, 4096).error, w.EPERM)
        self.assertEqual(conn.call(w.CMD_WRITE_ZEROES, 0, 4096).error,
                         w.EPERM)
        reply = conn.read(0, 4)
        self.assertEqual((reply.error, reply.data), (0, b"ZZZZ"))
        with open(self.path("ro.raw"), "rb") as f:
            self.assertEqual(f.read(4), b"ZZZZ")

    def test_too_large_read(self) -> None:
        conn = self.opened()
        self.assertEqual(conn.read(0, w.MAX_REQUEST + 1).error, w.EINVAL)
        self.assertEqual(
            conn.read(0, w.MAX_REQUEST + 1, w.CMD_FLAG_DF).error,
            w.EOVERFLOW)
        # The maximum itself is fine, in one chunk with DF.
        reply = conn.read(0, w.MAX_REQUEST, w.CMD_FLAG_DF)
        self.assertEqual(reply.error, 0)
        self.assertEqual(len(reply.data), w.MAX_REQUEST)
        data_chunks = [c for c in reply.chunks
                       if c.type in (w.REPLY_TYPE_OFFSET_DATA,
                                     w.REPLY_TYPE_OFFSET_HOLE)]
        self.assertLessEqual(len(data_chunks), 1)

    def test_too_large_write_keeps_connection(self) -> None:
        for structured in (False, True):
            conn = self.opened(structured=structured)
            big = b"\xAB" * (w.MAX_REQUEST + 1)
            self.assertEqual(conn.write(0, big).error, w.EINVAL)
            # The payload was read and dropped: the next request is parsed.
            self.assertEqual(conn.write(0, b"after").error, 0)
            reply = conn.read(0, 5)
            self.assertEqual((reply.error, reply.data), (0, b"after"))
            # Nothing of the refused write landed.
            self.assertEqual(conn.read(5, 16).data, bytes(16))

    def test_unknown_command_and_bad_flags(self) -> None:
        for structured in (False, True):
            conn = self.opened(structured=structured)
            self.assertEqual(conn.call(99, 0, 0).error, w.EINVAL)
            self.assertEqual(conn.read(0, 4, w.CMD_FLAG_NO_HOLE).error,
                             w.EINVAL)
            self.assertEqual(conn.write(0, b"abcd", 1 << 9).error, w.EINVAL)
            self.assertEqual(
                conn.call(w.CMD_TRIM, 0, 4096, w.CMD_FLAG_REQ_ONE).error,
                w.EINVAL)
            # The refused write's payload was consumed, not parsed.
            self.assertEqual(conn.read(0, 4).error, 0)

    def test_zero_length_requests(self) -> None:
        for structured in (False, True):
            conn = self.opened(structured=structured)
            self.assertEqual(conn.read(4096, 0).error, 0)
            self.assertEqual(conn.write(4096, b"").error, 0)
            self.assertEqual(conn.call(w.CMD_TRIM, 4096, 0).error, 0)
            self.assertEqual(conn.call(w.CMD_WRITE_ZEROES, 4096, 0).error, 0)
            self.assertEqual(conn.call(w.CMD_CACHE, 4096, 0).error, 0)
            self.assertEqual(conn.read(RW_SIZE, 0).error, 0)

    def test_write_zeroes_trim_fua_flush(self) -> None:
        conn = self.opened()
        self.assertEqual(conn.write(8192, b"\xFF" * 8192,
                                    w.CMD_FLAG_FUA).error, 0)
        self.assertEqual(conn.call(w.CMD_WRITE_ZEROES, 8192, 4096).error, 0)
        self.assertEqual(conn.call(w.CMD_WRITE_ZEROES, 12288, 2048,
                                   w.CMD_FLAG_NO_HOLE).error, 0)
        self.assertEqual(conn.call(w.CMD_FLUSH).error, 0)
        reply = conn.read(8192, 8192)
        self.assertEqual(reply.data,
                         bytes(4096 + 2048) + b"\xFF" * 2048)
        self.assertEqual(conn.call(w.CMD_TRIM, 0, 1 << 20).error, 0)
        self.assertEqual(conn.call(w.CMD_CACHE, 0, 1 << 20).error, 0)
        with open(self.path("rw.raw"), "rb") as f:
            f.seek(8192)
            self.assertEqual(f.read(16), bytes(16))

    def test_fast_zero_on_qcow2_enotsup(self) -> None:
        conn = self.opened("q")
        self.assertEqual(conn.write(0, b"\x11" * 4096).error, 0)
        reply = conn.call(w.CMD_WRITE_ZEROES, 0, 4096,
                          w.CMD_FLAG_FAST_ZERO)
        self.assertEqual(reply.error, w.ENOTSUP)
        # Nothing was zeroed.
        self.assertEqual(conn.read(0, 4).data, b"\x11" * 4)
        self.assertEqual(conn.call(w.CMD_WRITE_ZEROES, 0, 4096).error, 0)
        self.assertEqual(conn.read(0, 4).data, bytes(4))

    # Reply shapes.

    def test_simple_replies_without_structured(self) -> None:
        conn = self.opened(structured=False)
        self.assertEqual(conn.write(0, b"simple").error, 0)
        reply = conn.read(0, 6)
        self.assertFalse(reply.structured)
        self.assertEqual((reply.error, reply.data), (0, b"simple"))
        # Errors are simple replies too, without data.
        reply = conn.read(RW_SIZE, 1)
        self.assertFalse(reply.structured)
        self.assertEqual((reply.error, reply.data), (w.EINVAL, b""))
        # DF needs structured replies.
        self.assertEqual(conn.read(0, 6, w.CMD_FLAG_DF).error, w.EINVAL)
        self.assertEqual(conn.read(0, 6).data, b"simple")

    def test_structured_chunks(self) -> None:
        conn = self.opened()
        self.assertEqual(conn.write(0, b"chunky").error, 0)
        reply = conn.read(0, 6)
        self.assertTrue(reply.structured)
        self.assertEqual(reply.data, b"chunky")
        self.assertTrue(reply.chunks[-1].flags & w.REPLY_FLAG_DONE)
        self.assertTrue(all(not c.flags & w.REPLY_FLAG_DONE
                            for c in reply.chunks[:-1]))
        self.assertIn(w.REPLY_TYPE_OFFSET_DATA,
                      [c.type for c in reply.chunks])
        # A write: one NONE chunk with DONE, or a simple reply (allowed).
        reply = conn.write(6, b"!")
        self.assertEqual(reply.error, 0)
        if reply.structured:
            self.assertEqual([(c.flags, c.type, c.payload)
                              for c in reply.chunks],
                             [(w.REPLY_FLAG_DONE, w.REPLY_TYPE_NONE, b"")])
        # An error: an ERROR chunk with DONE, message length consistent.
        reply = conn.read(RW_SIZE, 10)
        self.assertEqual(reply.error, w.EINVAL)
        self.assertTrue(reply.structured)
        last = reply.chunks[-1]
        self.assertTrue(last.flags & w.REPLY_FLAG_DONE)
        self.assertIn(last.type, (w.REPLY_TYPE_ERROR,
                                  w.REPLY_TYPE_ERROR_OFFSET))
        msg_len = struct.unpack(">H", last.payload[4:6])[0]
        extra = 8 if last.type == w.REPLY_TYPE_ERROR_OFFSET else 0
        self.assertEqual(len(last.payload), 6 + msg_len + extra)
        # A hole reads as zeroes however it is sent.
        reply = conn.read(40 << 20, 1 << 20)
        self.assertEqual((reply.error, reply.data), (0, bytes(1 << 20)))

    def test_pipelined_requests_answered_by_cookie(self) -> None:
        for structured in (False, True):
            conn = self.opened(structured=structured)
            count = 64
            blocks = {i: bytes([i % 251 + 1]) * (4096 + i) for i in
                      range(count)}
            batch = b""
            for i, data in blocks.items():
                offset = i * 65536
                conn.pending[1000 + i] = (w.CMD_WRITE, offset, len(data))
                batch += struct.pack(">IHHQQI", w.REQUEST_MAGIC, 0,
                                     w.CMD_WRITE, 1000 + i, offset,
                                     len(data)) + data
            conn.send(batch)
            seen = set()
            for _ in range(count):
                reply = conn.reply()
                self.assertEqual(reply.error, 0)
                seen.add(reply.cookie)
            self.assertEqual(seen, {1000 + i for i in range(count)})
            batch = b""
            for i, data in blocks.items():
                conn.pending[5000 + i] = (w.CMD_READ, i * 65536, len(data))
                batch += struct.pack(">IHHQQI", w.REQUEST_MAGIC, 0,
                                     w.CMD_READ, 5000 + i, i * 65536,
                                     len(data))
            conn.send(batch)
            for _ in range(count):
                reply = conn.reply()
                i = reply.cookie - 5000
                self.assertIn(i, blocks)
                self.assertEqual(reply.error, 0)
                self.assertEqual(reply.data, blocks.pop(i))
            self.assertEqual(blocks, {})

    def test_disc_with_requests_in_flight(self) -> None:
        for structured in (False, True):
            conn = self.opened(structured=structured)
            cookies = []
            batch = b""
            for i in range(32):
                cookie = 77 + i
                cookies.append(cookie)
                if i % 2:
                    conn.pending[cookie] = (w.CMD_READ, i * 4096, 65536)
                    batch += struct.pack(">IHHQQI", w.REQUEST_MAGIC, 0,
                                         w.CMD_READ, cookie, i * 4096, 65536)
                else:
                    data = bytes([i + 1]) * 65536
                    conn.pending[cookie] = (w.CMD_WRITE, (8 << 20) + i * 65536,
                                            65536)
                    batch += struct.pack(">IHHQQI", w.REQUEST_MAGIC, 0,
                                         w.CMD_WRITE, cookie,
                                         (8 << 20) + i * 65536, 65536) + data
            batch += struct.pack(">IHHQQI", w.REQUEST_MAGIC, 0, w.CMD_DISC,
                                 9999, 0, 0)
            conn.send(batch)
            got = set()
            for _ in cookies:
                reply = conn.reply()
                self.assertEqual(reply.error, 0)
                got.add(reply.cookie)
            self.assertEqual(got, set(cookies))
            self.assertTrue(conn.wait_closed())
            # Every write landed.
            check = self.opened()
            for i in range(0, 32, 2):
                reply = check.read((8 << 20) + i * 65536, 65536)
                self.assertEqual(reply.data, bytes([i + 1]) * 65536)

    def test_silent_client_closed_others_served(self) -> None:
        silent = self.client()          # greeting read, nothing sent
        self.assert_served()
        half = self.client()
        half.handshake()                # flags, then nothing
        self.assert_served()
        self.assertTrue(silent.wait_closed(30.0))
        self.assertTrue(half.wait_closed(30.0))
        self.assert_served()

    def test_unknown_client_flags_close(self) -> None:
        conn = self.client()
        conn.handshake(w.FLAG_FIXED_NEWSTYLE | (1 << 7))
        self.assertTrue(conn.wait_closed())
        self.assert_served()


if __name__ == "__main__":
    harness_main()
