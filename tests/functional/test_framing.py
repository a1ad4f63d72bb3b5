#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Framing (docs/spec/qmp-protocol.md §1): pipelined and split requests,
whitespace, top-level numbers, end of input, disconnects; against the real
daemon."""

from __future__ import annotations

import json
import socket
import struct
import time

import qmp_harness
from qmp_harness import DaemonTestCase


def version_request(request_id: object) -> bytes:
    return b'{"execute": "query-version", "id": ' + \
        json.dumps(request_id, ensure_ascii=False).encode() + b"}"


class PipelineTest(DaemonTestCase):
    def test_thousand_in_one_write(self) -> None:
        client = self.connect()
        client.send(b"".join(version_request(i) for i in range(1000)))
        for i in range(1000):
            reply = client.recv_reply()
            self.assertEqual(reply.get("id"), i)
            self.assertIn("return", reply)
        client.expect_nothing()

    def test_thousand_mixed_commands(self) -> None:
        client = self.connect()
        commands = ["query-version", "query-commands", "no-such", "query-qmp-schema"]
        client.send(b"".join(
            b'{"execute": "%s", "id": %d}\r\n' % (commands[i % 4].encode(), i)
            for i in range(1000)))
        for i in range(1000):
            reply = client.recv_reply()
            self.assertEqual(reply.get("id"), i)
            if i % 4 == 2:
                self.assert_error(reply, "CommandNotFound", i)
            else:
                self.assertIn("return", reply)

    def test_pipelined_before_negotiation_completes(self) -> None:
        # Negotiation and commands in the same write.
        client = self.connect(negotiate=False)
        client.send(b'{"execute": "qmp_capabilities", "id": 0}' +
                    b"".join(version_request(i) for i in range(1, 50)))
        self.assertEqual(client.recv_reply(), {"return": {}, "id": 0})
        for i in range(1, 50):
            self.assertEqual(client.recv_reply()["id"], i)


class SplitTest(DaemonTestCase):
    # Splits inside strings, escapes, UTF-8 sequences, numbers and
    # literals; sent one byte per write.
    REQUEST = ('{ "execute" :\t"query-version",\r\n "id" : '
               '["\u00e9\u2603\U0001f600", "\\u00e9\\ud83d\\ude00\\n", '
               "'sq\\'', 12345, -1.5e10, 123456789012345678901, "
               'true, false, null, {"k": []}] }').encode()

    def test_byte_by_byte(self) -> None:
        client = self.connect()
        for byte in self.REQUEST:
            client.send(bytes([byte]))
            time.sleep(0.0005)  # let the server read most bytes alone
        reply = client.recv_reply()
        self.assertIn("return", reply)
        self.assertEqual(
            reply["id"],
            ["\u00e9\u2603\U0001f600", "\u00e9\U0001f600\n", "sq'", 12345,
             -1.5e10, 123456789012345678901, True, False, None, {"k": []}])
        self.assertEqual(reply["id"][5].text, "123456789012345678901")
        self.assertEqual(reply["id"][4].text, "-1.5e10")

    def test_every_split_point(self) -> None:
        # The request cut in two at every byte offset.
        client = self.connect()
        request = version_request("split-\u00e9") + b"\n"
        for cut in range(1, len(request)):
            client.send(request[:cut])
            time.sleep(0.0005)
            client.send(request[cut:])
        for _ in range(1, len(request)):
            self.assertEqual(client.recv_reply()["id"], "split-\u00e9")

    def test_negotiation_split(self) -> None:
        client = self.connect(negotiate=False)
        for byte in b'{"execute":"qmp_capabilities","id":"n"}':
            client.send(bytes([byte]))
        self.assertEqual(client.recv_reply(), {"return": {}, "id": "n"})


class WhitespaceTest(DaemonTestCase):
    def test_terminators(self) -> None:
        client = self.connect()
        for terminator in [b"", b"\n", b"\r\n", b" ", b"\t", b"\r", b"\n\n\r\n  \t"]:
            with self.subTest(terminator=terminator):
                client.send(version_request("t") + terminator)
                self.assertEqual(client.recv_reply()["id"], "t")
        client.expect_nothing()

    def test_whitespace_between_tokens(self) -> None:
        client = self.connect()
        client.send(b' \t\r\n{ \t\r\n"execute"\t:\r\n"query-version" , "id"\n:\n1\t}')
        self.assertEqual(client.recv_reply()["id"], 1)

    def test_unterminated_request_answered(self) -> None:
        # qemu.qmp sends no terminator and waits for the reply (§1/2).
        client = self.connect()
        client.send(version_request("no-newline"))
        self.assertEqual(client.recv_reply()["id"], "no-newline")

    def test_top_level_number_waits(self) -> None:
        # §1/5: "42" is complete only at the next byte; "4" then "2" then
        # a newline is one value (one error), not two.
        client = self.connect()
        client.send(b"4")
        time.sleep(0.05)
        client.send(b"2")
        time.sleep(0.05)
        client.send(b"\n" + version_request("m"))
        self.assert_error(client.recv_reply(), "GenericError")
        self.assertEqual(client.recv_reply()["id"], "m")
        # A number ended by '{' is complete too: one error, then the request.
        client.send(b"42" + version_request("n"))
        self.assert_error(client.recv_reply(), "GenericError")
        self.assertEqual(client.recv_reply()["id"], "n")
        client.expect_nothing()


class EndOfInputTest(DaemonTestCase):
    def test_replies_after_shutdown_write(self) -> None:
        # §1/12: complete requests run and are answered, the partial one is
        # dropped, then the server closes (what `echo ... | socat` needs).
        client = self.connect()
        client.send(version_request(1) + version_request(2) +
                    b'{"execute": "query-ver')
        client.sock.shutdown(socket.SHUT_WR)
        messages = client.expect_eof()
        self.assertEqual([m.get("id") for m in messages], [1, 2])
        self.assertTrue(all("return" in m for m in messages))

    def test_socat_style(self) -> None:
        # Negotiation and a command in one write, LF-terminated, then EOF.
        client = self.connect(negotiate=False)
        client.send(b'{"execute":"qmp_capabilities"}\n{"execute":"query-version"}\n')
        client.sock.shutdown(socket.SHUT_WR)
        messages = client.expect_eof()
        self.assertEqual(len(messages), 2, messages)
        self.assertEqual(messages[0], {"return": {}})
        self.assertIn("return", messages[1])

    def test_eof_right_after_greeting(self) -> None:
        client = self.connect(negotiate=False)
        client.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(client.expect_eof(), [])

    def test_eof_with_many_pending(self) -> None:
        client = self.connect()
        client.send(b"".join(version_request(i) for i in range(500)))
        client.sock.shutdown(socket.SHUT_WR)
        messages = client.expect_eof()
        self.assertEqual([m.get("id") for m in messages], list(range(500)))


class DisconnectTest(DaemonTestCase):
    def test_mid_request(self) -> None:
        for cut in [1, 10, 25]:
            with self.subTest(cut=cut):
                client = self.connect()
                client.send(version_request("lost")[:cut])
                client.close()
                self.daemon.check_alive()

    def test_mid_string_and_utf8(self) -> None:
        client = self.connect()
        client.send('{"execute": "query-version", "id": "\u00e9'.encode()[:-1])
        client.close()
        self.daemon.check_alive()

    def test_with_unread_replies(self) -> None:
        client = self.connect()
        client.send(b'{"execute": "query-qmp-schema"}' * 200)
        client.close()
        self.daemon.check_alive()

    def test_reset_with_unread_replies(self) -> None:
        client = self.connect()
        client.send(b'{"execute": "query-qmp-schema"}' * 50)
        # SO_LINGER 0: the close sends a reset.
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                               struct.pack("ii", 1, 0))
        client.close()
        self.daemon.check_alive()

    def test_before_greeting_read(self) -> None:
        for _ in range(20):
            client = qmp_harness.RawClient.connect(self.daemon.address)
            client.close()
        self.daemon.check_alive()

    def test_other_session_unaffected(self) -> None:
        # §11/2: partial input of one session never affects another.
        first = self.connect()
        second = self.connect()
        first.send(b'{"execute": "query-version", "id": "fir')
        second.send(version_request("second"))
        self.assertEqual(second.recv_reply()["id"], "second")
        first.send(b'st"}')
        self.assertEqual(first.recv_reply()["id"], "first")
        first.send(b'{"execute": "query-version", "id": "dropped')
        first.close()
        second.send(version_request("still"))
        self.assertEqual(second.recv_reply()["id"], "still")


if __name__ == "__main__":
    qmp_harness.main()
