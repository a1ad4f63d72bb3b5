#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bad input and recovery (docs/spec/qmp-protocol.md §7-§8) and the input
limits: garbage bytes, every kind of JSON error, oversize and deeply nested
requests; against the real daemon."""

from __future__ import annotations

import random
from typing import Any

import qmp_harness
from qmp_harness import DaemonTestCase, RawClient

MARKER = b'{"execute": "query-version", "id": "marker"}'

# The request limit: the monitor's default is 16 MiB, docs/spec/qmp-protocol.md
# §7 says 64 MiB; go past both.
OVERSIZE = 64 * 1024 * 1024 + 64 * 1024


class RecoveryTest(DaemonTestCase):
    def replies_until_marker(self, client: RawClient) -> list[dict[str, Any]]:
        """Replies before the marker's (which is checked and dropped)."""
        replies = []
        while True:
            reply = client.recv_reply()
            if reply.get("id") == "marker":
                self.assertIn("return", reply)
                return replies
            replies.append(reply)

    def assert_errors_then_marker(self, client: RawClient, data: bytes,
                                  count: int) -> None:
        client.send(data)
        client.send(b"\n" + MARKER)
        replies = self.replies_until_marker(client)
        self.assertEqual(len(replies), count, replies)
        for reply in replies:
            self.assert_error(reply, "GenericError")

    # -- the table of §8 --

    def test_garbage_between_requests(self) -> None:
        client = self.connect()
        client.send(b'{"execute":"query-version","id":"i1"}@'
                    b'{"execute":"query-version","id":"i2"}')
        self.assertEqual(client.recv_reply()["id"], "i1")
        self.assert_error(client.recv_reply(), "GenericError")
        self.assertEqual(client.recv_reply()["id"], "i2")

    def test_nul_bytes(self) -> None:
        client = self.connect()
        client.send(b"\0" * 65536 + MARKER)
        self.assert_error(client.recv_reply(), "GenericError")
        self.assertEqual(client.recv_reply()["id"], "marker")
        client.expect_nothing()

    # After unbalanced brackets the reader may sit in a tentative value
    # (§8), where a newline is mere whitespace: a control byte resets it
    # (§8/1), silently since the reader is not ready.

    def test_many_brackets(self) -> None:
        client = self.connect()
        self.assert_errors_then_marker(client, b"[" * 100_000 + b"\x01", 1)

    def test_many_braces(self) -> None:
        client = self.connect()
        self.assert_errors_then_marker(client, b"{" * 100_000 + b"\x01", 1)

    def test_incomplete_member(self) -> None:
        client = self.connect()
        self.assert_errors_then_marker(client, b'{"execute": }', 1)

    def test_two_bad_without_newline(self) -> None:
        client = self.connect()
        self.assert_errors_then_marker(client, b'{"execute": }{"execute": }', 1)

    def test_two_bad_on_separate_lines(self) -> None:
        client = self.connect()
        self.assert_errors_then_marker(client, b'{"execute": }\n{"execute": }', 2)

    def test_bom(self) -> None:
        client = self.connect()
        client.send(b"\xef\xbb\xbf" + MARKER)
        self.assert_error(client.recv_reply(), "GenericError")
        self.assertEqual(client.recv_reply()["id"], "marker")

    def test_resynchronise_with_control_byte(self) -> None:
        # §8/1: a control byte makes pending input fail.
        client = self.connect()
        client.send(b'{"execute": "query-version", "id": "never')
        client.send(b"\x01" + MARKER)
        self.assert_error(client.recv_reply(), "GenericError")
        self.assertEqual(client.recv_reply()["id"], "marker")
        client.send(b'{"execute": "query-version", "id": [1, 2')
        client.send(b"\xff" + MARKER)
        self.assert_error(client.recv_reply(), "GenericError")
        self.assertEqual(client.recv_reply()["id"], "marker")

    def test_one_error_per_bad_line(self) -> None:
        client = self.connect()
        self.assert_errors_then_marker(client, b"foo\nbar baz\n\n}}}\n'\n", 4)

    def test_random_garbage(self) -> None:
        # Whatever the garbage, the server answers only with id-less
        # GenericErrors (a tentative value completed from random bytes is a
        # request with no id), never closes the session, and then serves the
        # marker.
        generator = random.Random(4)
        client = self.connect()
        for _ in range(20):
            data = bytes(generator.randrange(256) for _ in range(4096))
            client.send(data)
            client.send(b"\x01\n" + MARKER)
            for reply in self.replies_until_marker(client):
                self.assert_error(reply, "GenericError")

    # -- the verdicts of §7 --

    def test_json_errors(self) -> None:
        bad_ids = [b"00", b"01", b"+1", b".5", b"1.", b"-", b"0x10", b"1e+",
                   b"NaN", b"Infinity", b"-Infinity", b"True", b"nul",
                   b'"\\z"', b'"\\ux"', b'"\\u12x"', b'"\\ud800"',
                   b'"\\ud800x"', b'"\\udc00\\ud800"', b'"\\ud800\\u0041"',
                   b'"\\ufdd0"', b'"\\uffff"', b'"\\ud83f\\udffe"',
                   b'"\xef\xb7\x90"', b'"\xef\xbf\xbf"', b'"\xc0\x80"',
                   b'"\xc1\xbf"', b'"\xe0\x80\xaf"', b'"\xed\xa0\x80"',
                   b'"\xf4\x90\x80\x80"', b'"\xf8\x88\x80\x80\x80"',
                   b'"\xfc\x84\x80\x80\x80\x80"', b'"\x80"', b'"\xc3"',
                   b'"\xfe"', b'"\xff"', b'"a\tb"', b'"a\x01b"', b'"a\x1fb"',
                   b"[1,]", b"[,1]", b'{"a":1,}', b'{"a" 1}', b"{1: 2}",
                   b'{"a":1 "b":2}', b"/* c */ 1", b"[1] //",
                   b'{"a": 1, "a": 2}', b"'\\z'", b"undefined", b"\x7f"]
        client = self.connect()
        for bad in bad_ids:
            with self.subTest(id=bad):
                client.send(b'{"execute": "query-version", "id": ' + bad + b"}\n")
                self.assert_error(client.recv_reply(), "GenericError")
                client.send(MARKER + b"\n")
                self.assertEqual(client.recv_reply()["id"], "marker")

    def test_valid_json_accepted(self) -> None:
        good_ids: list[tuple[bytes, Any]] = [
            (b'"\\u0000"', "\u0000"),
            (b"'sq'", "sq"),
            (b"'a\"b'", 'a"b'),
            (b'"a\'b"', "a'b"),
            (b'"\\\'"', "'"),
            (b'"\\/"', "/"),
            (b'"\\u00E9\\u00e9"', "\u00e9\u00e9"),
            (b'"\\uD83D\\uDE00"', "\U0001f600"),
            (b'"\xf4\x8f\xbf\xbd"', "\U0010fffd"),
            (b'"\xef\xbf\xbd"', "\ufffd"),
            (b'"\x7f"', "\x7f"),
            (b"-0", 0),
            (b"0e0", 0.0),
            (b"[ ]", []),
            (b"{ }", {}),
        ]
        client = self.connect()
        for raw, value in good_ids:
            with self.subTest(id=raw):
                client.send(b'{"execute": "query-version", "id": ' + raw + b"}")
                reply = client.recv_reply()
                self.assertIn("return", reply)
                self.assertEqual(reply["id"], value)

    # -- limits --

    def test_nesting_limit(self) -> None:
        # The 1025th bracket is an error.  It also starts a tentative value
        # (§8), which here completes as a non-object or envelope error, and
        # the closing brackets after it are one more error: only id-less
        # GenericErrors, at least one, then the marker.
        client = self.connect()
        for data in [b"[" * 1025 + b"]" * 1025,
                     b'{"a":' * 1025 + b"1" + b"}" * 1025,
                     b'{"execute": "query-version", "id": ' + b"[" * 1024 +
                     b"]" * 1024 + b"}"]:
            with self.subTest(data=data[:40]):
                client.send(data + b"\n" + MARKER)
                replies = self.replies_until_marker(client)
                self.assertGreaterEqual(len(replies), 1)
                for reply in replies:
                    self.assert_error(reply, "GenericError")
        # 1024 levels parse: a valid non-object, one error.
        self.assert_errors_then_marker(client, b"[" * 1024 + b"]" * 1024, 1)
        deepest_request = (b'{"execute": "query-version", "id": ' + b"[" * 1023 +
                           b"]" * 1023 + b"}")
        client.send(deepest_request)
        self.assertIn("return", client.recv_reply())

    def test_oversize_refused_without_waiting(self) -> None:
        # An unfinished value past the size limit is refused as soon as it
        # crosses the limit: the error arrives before the value ends.
        client = self.connect()
        client.send(b'{"execute": "query-version", "id": "')
        chunk = b"A" * (1 << 20)
        sent = 0
        while sent < OVERSIZE:
            client.send(chunk)
            sent += len(chunk)
        self.assert_error(client.recv_reply(), "GenericError")
        # The rest of the value is skipped silently.
        client.send(b"A" * 1000 + b'"}\n' + MARKER)
        self.assertEqual(client.recv_reply()["id"], "marker")
        client.expect_nothing()

    def test_oversize_complete_request(self) -> None:
        # A complete request over the limit is refused like bad JSON (no
        # id), not run.
        client = self.connect()
        body = b"B" * OVERSIZE
        client.send(b'{"execute": "no-such-command", "id": 1, "arguments": '
                    b'{"x": "' + body + b'"}}\n' + MARKER)
        self.assert_error(client.recv_reply(), "GenericError")
        self.assertEqual(client.recv_reply()["id"], "marker")

    def test_token_limit(self) -> None:
        client = self.connect()
        # 2.2 million values: over 2,097,152 tokens however they count.
        many = b"[" + b"0," * 2_200_000 + b"0]"
        self.assert_errors_then_marker(
            client, b'{"execute": "query-version", "id": ' + many + b"}", 1)
        # 500,000 values and their commas: under the limit, echoed.
        fewer = b"[" + b"0," * 499_999 + b"0]"
        client.send(b'{"execute": "query-version", "id": ' + fewer + b"}")
        reply = client.recv_reply()
        self.assertIn("return", reply)
        self.assertEqual(len(reply["id"]), 500_000)

    def test_big_request_under_limit(self) -> None:
        # 8 MiB: under both limits, an ordinary argument error with its id.
        client = self.connect()
        body = "C" * (8 << 20)
        reply = client.execute_request(
            {"execute": "query-version", "arguments": {"x": body}, "id": "big"})
        self.assert_error(reply, "GenericError", "big", ["x"])


if __name__ == "__main__":
    qmp_harness.main()
