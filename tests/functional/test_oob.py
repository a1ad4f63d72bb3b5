#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Out-of-band execution (docs/spec/qmp-protocol.md §10), against the real
daemon."""

from __future__ import annotations

import json
from typing import Any, Optional

import qmp_harness
from qmp_harness import DaemonTestCase, RawClient


class OobTest(DaemonTestCase):
    def oob_command(self, client: RawClient) -> Optional[str]:
        """A command of the daemon's schema with allow-oob, taking no
        mandatory argument, if there is one."""
        schema = client.command("query-qmp-schema")
        by_name = {entry["name"]: entry for entry in schema}
        for entry in schema:
            if entry["meta-type"] != "command" or not entry.get("allow-oob"):
                continue
            arg_type = by_name.get(entry["arg-type"], {})
            members = arg_type.get("members", [])
            # Optional members carry "default" in SchemaInfo.
            if all("default" in member for member in members):
                return str(entry["name"])
        return None

    def require_oob_command(self, client: RawClient) -> str:
        name = self.oob_command(client)
        if name is None:
            self.skipTest("the daemon's schema has no allow-oob command "
                          "(docs/spec/qmp-protocol.md §10/2 asks for one)")
        return name

    def test_greeting_offers_oob(self) -> None:
        client = self.connect(negotiate=False)
        assert client.greeting is not None
        self.assertIn("oob", client.greeting["QMP"]["capabilities"])

    def test_exec_oob_needs_negotiated_oob(self) -> None:
        client = self.connect()
        name = self.oob_command(client) or "query-version"
        reply = client.execute_request({"exec-oob": name, "id": "x"})
        self.assert_error(reply, "GenericError", "x", ["exec-oob"])

    def test_exec_oob_in_band_command(self) -> None:
        client = self.connect(enable=["oob"])
        reply = client.execute_request({"exec-oob": "query-commands", "id": "q"})
        self.assert_error(reply, "GenericError", "q", ["query-commands"])

    def test_exec_oob_checks_in_order(self) -> None:
        client = self.connect(enable=["oob"])
        reply = client.execute_request({"exec-oob": "nope", "id": 10})
        self.assert_error(reply, "CommandNotFound", 10)
        reply = client.execute_request({"exec-oob": "qmp_capabilities", "id": 9})
        self.assert_error(reply, "CommandNotFound", 9)
        reply = client.execute_request({"exec-oob": 1, "id": 7})
        self.assert_error(reply, "GenericError", 7, ["exec-oob"])
        reply = client.execute_request(
            {"exec-oob": "query-version", "arguments": [], "id": 8})
        self.assert_error(reply, "GenericError", 8, ["arguments"])

    def test_exec_oob_before_negotiation(self) -> None:
        # Before qmp_capabilities no session has OOB: check 4 applies.
        client = self.connect(negotiate=False)
        reply = client.execute_request({"exec-oob": "query-version", "id": "n"})
        self.assert_error(reply, "GenericError", "n", ["exec-oob"])

    def test_in_band_order_with_oob_on(self) -> None:
        # §10/3: with OOB on, the reader stops at 8 queued in-band requests
        # and resumes; every reply comes, in order.
        client = self.connect(enable=["oob"])
        client.send(b"".join(b'{"execute": "query-version", "id": %d}' % i
                             for i in range(1000)))
        for i in range(1000):
            self.assertEqual(client.recv_reply()["id"], i)

    def test_error_replies_keep_their_place(self) -> None:
        # §10/6: with OOB on, replies to bad input stay in the in-band order.
        client = self.connect(enable=["oob"])
        client.send(b'{"execute": "query-version", "id": 1}'
                    b'{"execute": "query-version", "id": 2, "bad": 0}'
                    b"@\n"
                    b'{"execute": "query-version", "id": 3}')
        replies = [client.recv_reply() for _ in range(4)]
        self.assertEqual(replies[0]["id"], 1)
        self.assert_error(replies[1], "GenericError", 2)
        self.assert_error(replies[2], "GenericError")
        self.assertEqual(replies[3]["id"], 3)

    def test_oob_reply(self) -> None:
        client = self.connect(enable=["oob"])
        name = self.require_oob_command(client)
        reply = client.execute_request({"exec-oob": name, "id": "oob"})
        self.assertIn("return", reply)

    def test_oob_ordering(self) -> None:
        # Seven in-band requests (under the queue limit of 8) and one
        # exec-oob, in one write, so that the daemon reads them in one go:
        # every request gets its reply, in-band replies keep their order,
        # and the OOB one jumps the queue (§10/3): it cannot come last.
        client = self.connect(enable=["oob"])
        name = self.require_oob_command(client)
        for _ in range(20):
            in_band = [{"execute": "query-qmp-schema", "id": i} for i in range(7)]
            batch = b"".join(json.dumps(r).encode() for r in in_band)
            batch += json.dumps({"exec-oob": name, "id": "oob"}).encode()
            client.send(batch)
            replies = [client.recv_reply() for _ in range(8)]
            ids: list[Any] = [reply["id"] for reply in replies]
            self.assertIn("oob", ids)
            self.assertEqual([i for i in ids if i != "oob"], list(range(7)))
            self.assertLess(ids.index("oob"), 7, ids)
            for reply in replies:
                self.assertIn("return", reply)

    def test_in_band_order_with_oob_off(self) -> None:
        # §10/5: with OOB off, requests run strictly in order.
        client = self.connect(enable=[])
        client.send(b"".join(b'{"execute": "query-qmp-schema", "id": %d}' % i
                             for i in range(7)) +
                    b'{"execute": "query-version", "id": 7}')
        self.assertEqual([client.recv_reply()["id"] for _ in range(8)],
                         list(range(8)))

if __name__ == "__main__":
    qmp_harness.main()
