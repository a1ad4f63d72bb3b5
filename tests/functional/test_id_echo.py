#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The id echo of docs/spec/qmp-protocol.md §5/2-3 for every JSON type, and the
7-bit ASCII output of §1/7, against the real daemon."""

from __future__ import annotations

import json
from typing import Any

import qmp_harness
from qmp_harness import DaemonTestCase, JsonFloat, JsonInt


def canonical(value: Any) -> str:
    """VALUE as compact JSON, numbers written with their source text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (JsonInt, JsonFloat)):
        return value.text
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, list):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(key) + ":" + canonical(item)
                              for key, item in value.items()) + "}"
    raise TypeError(value)


# (id as sent, its echo in canonical form)
ECHOED: list[tuple[bytes, str]] = [
    (b'"abc"', '"abc"'),
    (b'""', '""'),
    (b"'single'", '"single"'),
    (b"'it\\'s \"q\"'", '"it\'s \\"q\\""'),
    (b'"\\/\\b\\f\\n\\r\\t\\"\\\\"', '"/\\b\\f\\n\\r\\t\\"\\\\"'),
    (b'"\\u00E9\\u00e9"', '"\\u00e9\\u00e9"'),
    (b'"\\u0000"', '"\\u0000"'),
    (b'"a\\u0000b"', '"a\\u0000b"'),
    (b'"\\ud83d\\ude00"', '"\\ud83d\\ude00"'),
    ("\"\u00e9\u2603\U0001f600\"".encode(), '"\\u00e9\\u2603\\ud83d\\ude00"'),
    ("\"\U0010fffd\"".encode(), '"\\udbff\\udffd"'),
    (b'"\\u0001\\u001f\\u007f"', '"\\u0001\\u001f\\u007f"'),
    (b"true", "true"),
    (b"false", "false"),
    (b"null", "null"),
    (b"[]", "[]"),
    (b"{}", "{}"),
    (b'[1, "two", [3, {"four": null}], true]', '[1,"two",[3,{"four":null}],true]'),
    (b'{"b": 1, "a": 2, "c": {"z": [], "y": {}}}', '{"b":1,"a":2,"c":{"z":[],"y":{}}}'),
    (b"0", "0"),
    (b"-0", "0"),
    (b"1", "1"),
    (b"-1", "-1"),
    (b"9223372036854775807", "9223372036854775807"),
    (b"-9223372036854775808", "-9223372036854775808"),
    (b"9223372036854775808", "9223372036854775808"),
    (b"18446744073709551615", "18446744073709551615"),
    (b"18446744073709551616", "18446744073709551616"),
    (b"-9223372036854775809", "-9223372036854775809"),
    (b"123456789012345678901234567890", "123456789012345678901234567890"),
    (b"-123456789012345678901234567890", "-123456789012345678901234567890"),
    (b"1.0", "1.0"),
    (b"1E2", "1E2"),
    (b"1e+2", "1e+2"),
    (b"-0.0", "-0.0"),
    (b"0.1", "0.1"),
    (b"1e-999", "1e-999"),
]

REFUSED_IDS = [b"1e999", b"-1e400", b"2.5e308", b"[1, {\"x\": 1e999}]",
               b'{"a": [[-1E400]]}']


class IdEchoTest(DaemonTestCase):
    def request_with_id(self, client: qmp_harness.RawClient, raw_id: bytes,
                        command: str = "query-version") -> tuple[dict[str, Any], bytes]:
        client.send(b'{"execute": "' + command.encode() + b'", "id": ' + raw_id + b"}")
        line = client.recv_line()
        return qmp_harness.parse_server_message(line), line

    def test_echo_every_type(self) -> None:
        client = self.connect()
        for raw_id, expected in ECHOED:
            with self.subTest(id=raw_id):
                reply, line = self.request_with_id(client, raw_id)
                self.assertIn("return", reply, line)
                self.assertIn("id", reply, line)
                self.assertEqual(canonical(reply["id"]), expected, line)

    def test_echo_in_error_replies(self) -> None:
        # The id comes back the same in an error reply (check 10 here).
        client = self.connect()
        for raw_id, expected in ECHOED:
            with self.subTest(id=raw_id):
                reply, line = self.request_with_id(client, raw_id, "no-such-command")
                self.assertEqual(reply["error"]["class"], "CommandNotFound", line)
                self.assertEqual(canonical(reply["id"]), expected, line)

    def test_echo_in_negotiation(self) -> None:
        client = self.connect(negotiate=False)
        for raw_id, expected in ECHOED[:20]:
            with self.subTest(id=raw_id):
                reply, line = self.request_with_id(client, raw_id)
                self.assertEqual(reply["error"]["class"], "CommandNotFound", line)
                self.assertEqual(canonical(reply["id"]), expected, line)

    def test_member_order(self) -> None:
        # §5/1: qapikit writes return/error first and id last (clients must
        # accept any order; this is qapikit's own promise).
        client = self.connect()
        for command, first in [("query-version", b'{"return":'),
                               ("no-such-command", b'{"error":')]:
            with self.subTest(command=command):
                _, line = self.request_with_id(client, b'{"z": 1, "a": [2]}',
                                               command)
                self.assertTrue(line.replace(b" ", b"").startswith(first), line)
                self.assertTrue(line.replace(b" ", b"").endswith(
                    b'"id":{"z":1,"a":[2]}}'), line)

    def test_non_finite_id_refused(self) -> None:
        client = self.connect()
        for raw_id in REFUSED_IDS:
            with self.subTest(id=raw_id):
                reply, line = self.request_with_id(client, raw_id)
                self.assert_error(reply, "GenericError", mentions=["id"])
        # Check 3 comes before check 4: still no id.
        client.send(b'{"execute": "query-version", "foo": 1, "id": 1e999}')
        self.assert_error(client.recv_reply(), "GenericError")

    def test_non_ascii_escaped(self) -> None:
        # §1/7: the raw reply is ASCII with \\uXXXX escapes (the harness
        # refuses any byte >= 0x80); a surrogate pair above U+FFFF.
        client = self.connect()
        reply, line = self.request_with_id(client, "\"\U0001f600\u00ff\"".encode())
        self.assertEqual(reply["id"], "\U0001f600\u00ff")
        self.assertIn(b"\\ud83d\\ude00", line.lower())
        self.assertIn(b"\\u00ff", line.lower())

    def test_control_characters_escaped(self) -> None:
        client = self.connect()
        reply, line = self.request_with_id(client, b'"\\n\\r\\t\\u0002\\u001b"')
        self.assertEqual(reply["id"], "\n\r\t\x02\x1b")
        self.assertNotIn(b"\n", line)
        self.assertNotIn(b"\r", line)
        self.assertNotIn(b"\t", line)
        self.assertNotIn(b"\x02", line)

    def test_deep_id(self) -> None:
        # 1024 levels parse (the request object is the first).
        client = self.connect()
        raw_id = b"[" * 1023 + b"7" + b"]" * 1023
        reply, line = self.request_with_id(client, raw_id)
        self.assertIn("return", reply)
        self.assertEqual(canonical(reply["id"]), raw_id.decode())
        # The 1025th bracket is an error: the replies until the next request
        # carry no id (test_recovery checks the count).
        raw_id = b"[" * 1024 + b"7" + b"]" * 1024
        client.send(b'{"execute": "query-version", "id": ' + raw_id + b"}\n")
        client.send(b'{"execute": "query-version", "id": "after"}')
        while True:
            reply = client.recv_reply()
            if reply.get("id") == "after":
                break
            self.assert_error(reply, "GenericError")
        self.assertIn("return", reply)

    def test_large_id(self) -> None:
        client = self.connect()
        big = "x" * (1 << 20)
        reply = client.execute_request({"execute": "query-version",
                                        "id": {"big": big, "n": list(range(1000))}})
        self.assertEqual(reply["id"], {"big": big, "n": list(range(1000))})


if __name__ == "__main__":
    qmp_harness.main()
