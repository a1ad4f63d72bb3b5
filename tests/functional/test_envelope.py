#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The request checks of docs/spec/qmp-protocol.md §4, in their order, and the
error classes reachable on the daemon (§6), against the real daemon."""

from __future__ import annotations

import os
from typing import Any

import qmp_harness
from qmp_harness import DaemonTestCase, RawClient


class EnvelopeTest(DaemonTestCase):
    def raw(self, client: RawClient, data: bytes) -> dict[str, Any]:
        """Send DATA (one request, newline-terminated); its reply."""
        client.send(data + b"\n")
        return client.recv_reply()

    def test_check1_invalid_json(self) -> None:
        client = self.connect()
        for data in [b'{"execute": "query-version", "id": 1, }',
                     b'{"execute": "query-version", "id": 1, "id": 2}',
                     b'{"execute": "query-version", "id": "\\z"}',
                     b'{"execute" "query-version", "id": 3}',
                     b'{"execute": query-version, "id": 4}']:
            with self.subTest(data=data):
                self.assert_error(self.raw(client, data), "GenericError")

    def test_check2_not_an_object(self) -> None:
        client = self.connect()
        for data in [b"[]", b"42", b'"x"', b"null", b"true", b"[{\"id\": 1}]",
                     b"-1.5e3", b"'single'"]:
            with self.subTest(data=data):
                self.assert_error(self.raw(client, data), "GenericError")

    def test_check3_non_finite_id(self) -> None:
        client = self.connect()
        reply = self.raw(client, b'{"execute": "query-version", "id": 1e999}')
        self.assert_error(reply, "GenericError", mentions=["id"])

    def test_check4_unknown_member(self) -> None:
        client = self.connect()
        for member in ["foo", "control", "EXECUTE", "Id", "arguments ", ""]:
            with self.subTest(member=member):
                reply = client.execute_request(
                    {"execute": "query-version", member: 1, "id": member})
                self.assert_error(reply, "GenericError", member, [repr(member)[1:-1]])

    def test_check4_exec_oob_without_oob(self) -> None:
        # A session that did not enable OOB: 'exec-oob' is unexpected.
        client = self.connect(enable=[])
        reply = client.execute_request({"exec-oob": "query-version", "id": "o"})
        self.assert_error(reply, "GenericError", "o", ["exec-oob"])

    def test_check5_both(self) -> None:
        client = self.connect(enable=["oob"])
        reply = client.execute_request(
            {"execute": "query-version", "exec-oob": "query-version", "id": 5})
        self.assert_error(reply, "GenericError", 5, ["execute", "exec-oob"])
        # Check 5 comes before 7: both present, one not a string.
        reply = client.execute_request({"execute": 1, "exec-oob": "x", "id": 57})
        self.assert_error(reply, "GenericError", 57, ["exec-oob"])

    def test_check6_neither(self) -> None:
        client = self.connect()
        for request in [{"id": 6}, {"arguments": {}, "id": 6}]:
            with self.subTest(request=request):
                reply = client.execute_request(request)
                self.assert_error(reply, "GenericError", 6, ["execute"])
        self.assert_error(self.raw(client, b"{}"), "GenericError")

    def test_check7_execute_not_string(self) -> None:
        client = self.connect()
        for value in [1, None, True, ["query-version"], {"a": 1}]:
            with self.subTest(value=value):
                reply = client.execute_request({"execute": value, "id": 7})
                self.assert_error(reply, "GenericError", 7, ["execute"])

    def test_check8_arguments_not_object(self) -> None:
        client = self.connect()
        for value in [[], None, "x", 1, True]:
            with self.subTest(value=value):
                reply = client.execute_request(
                    {"execute": "query-version", "arguments": value, "id": 8})
                self.assert_error(reply, "GenericError", 8, ["arguments"])
        # Check 8 comes before check 10: an unknown command with bad
        # arguments is a GenericError, not CommandNotFound.
        reply = client.execute_request(
            {"execute": "no-such-command", "arguments": [], "id": 810})
        self.assert_error(reply, "GenericError", 810, ["arguments"])

    def test_check9_capabilities_in_command_mode(self) -> None:
        client = self.connect()
        reply = client.execute_request({"execute": "qmp_capabilities", "id": 9})
        self.assert_error(reply, "CommandNotFound", 9)

    def test_check10_unknown_command(self) -> None:
        client = self.connect()
        for name in ["no-such-command", "", "QUERY-VERSION", "query_version",
                     "query-version ", "\u00e9"]:
            with self.subTest(name=name):
                reply = client.execute_request({"execute": name, "id": 10})
                self.assert_error(reply, "CommandNotFound", 10)
        reply = client.execute_request({"execute": "no-such-command", "id": 10})
        self.assert_error(reply, "CommandNotFound", 10, ["no-such-command"])

    def test_check11_exec_oob_not_allowed(self) -> None:
        client = self.connect(enable=["oob"])
        schema = client.command("query-qmp-schema")
        in_band = [entry["name"] for entry in schema
                   if entry["meta-type"] == "command"
                   and not entry.get("allow-oob", False)
                   and entry["name"] != "qmp_capabilities"]
        self.assertIn("query-commands", in_band)
        for name in in_band:
            with self.subTest(command=name):
                reply = client.execute_request({"exec-oob": name, "id": 11})
                self.assert_error(reply, "GenericError", 11, [name])
        # Check 10 comes before 11.
        reply = client.execute_request({"exec-oob": "no-such-command", "id": 1011})
        self.assert_error(reply, "CommandNotFound", 1011)

    def test_check12_arguments(self) -> None:
        client = self.connect()
        cases: list[tuple[str, Any, str]] = [
            ("query-version", {"x": 1}, "x"),
            ("query-commands", {"name": "x"}, "name"),
            ("query-qmp-schema", {"": None}, "''"),
        ]
        for name, arguments, member in cases:
            with self.subTest(command=name, arguments=arguments):
                reply = client.execute_request(
                    {"execute": name, "arguments": arguments, "id": 12})
                self.assert_error(reply, "GenericError", 12)
        # A JSON error beats everything, even in a valid-looking request.
        client.send(b'{"execute": "no-such-command", "id": 1, "id": 2}\n')
        self.assert_error(client.recv_reply(), "GenericError")

    def test_order_4_before_6_and_8(self) -> None:
        client = self.connect()
        reply = client.execute_request({"foo": 1, "arguments": 5, "id": 46})
        self.assert_error(reply, "GenericError", 46, ["foo"])

    def test_order_2_before_everything(self) -> None:
        client = self.connect()
        reply = self.raw(client, b'[{"execute": "query-version", "id": 2}]')
        self.assert_error(reply, "GenericError")

    def test_replies_in_order_with_errors_between(self) -> None:
        # §10/6: error replies keep their place in the in-band order.
        client = self.connect()
        client.send(b'{"execute": "query-version", "id": 1}'
                    b'{"execute": "nope", "id": 2}\n'
                    b'garbage\n'
                    b'{"execute": "query-version", "id": 3, "x": 0}'
                    b'[]'
                    b'{"execute": "query-version", "id": 4}')
        replies = [client.recv_reply() for _ in range(6)]
        self.assertIn("return", replies[0])
        self.assertEqual(replies[0]["id"], 1)
        self.assert_error(replies[1], "CommandNotFound", 2)
        self.assert_error(replies[2], "GenericError")
        self.assert_error(replies[3], "GenericError", 3)
        self.assert_error(replies[4], "GenericError")
        self.assertEqual(replies[5]["id"], 4)


class BlockErrorClassTest(DaemonTestCase):
    """Error classes of the block commands that need no device (§6).

    Run only once the daemon registers the commands (the block issue)."""

    def commands(self, client: RawClient) -> set[str]:
        return {entry["name"] for entry in client.command("query-commands")}

    def require(self, client: RawClient, name: str) -> None:
        if name not in self.commands(client):
            self.skipTest(f"the daemon has no {name} yet")

    def test_device_not_found(self) -> None:
        client = self.connect()
        self.require(client, "blockdev-snapshot-sync")
        target = os.path.join(self.tmpdir.name, "never.qcow2")
        reply = client.execute_request(
            {"execute": "blockdev-snapshot-sync", "id": "dnf",
             "arguments": {"device": "no-such-disk", "snapshot-file": target}})
        self.assert_error(reply, "DeviceNotFound", "dnf", ["no-such-disk"])
        self.assertFalse(os.path.exists(target))

    def test_group_argument_paths(self) -> None:
        client = self.connect()
        self.require(client, "blockdev-group-snapshot-sync")
        target = os.path.join(self.tmpdir.name, "never.qcow2")
        cases: list[tuple[Any, str]] = [
            ({"devlist": [{"device": "a", "snapshot-file": target},
                          {"snapshot-file": target}]}, "devlist[1].device"),
            ({"devlist": [{"device": "a", "snapshot-file": target, "x": 1}]},
             "devlist[0].x"),
            ({"devlist": "x"}, "devlist"),
            ({"devlist": None}, "devlist"),
            ({}, "devlist"),
            ({"devlist": [{"device": "a\u0000b", "snapshot-file": target}]},
             "devlist[0].device"),
            ({"devlist": [{"device": 1, "snapshot-file": target}]},
             "devlist[0].device"),
        ]
        for arguments, path in cases:
            with self.subTest(arguments=arguments):
                reply = client.execute_request(
                    {"execute": "blockdev-group-snapshot-sync",
                     "arguments": arguments, "id": "g"})
                self.assert_error(reply, "GenericError", "g", [path])
        self.assertFalse(os.path.exists(target))

    def test_empty_group_unknown_device(self) -> None:
        client = self.connect()
        self.require(client, "blockdev-group-snapshot-sync")
        target = os.path.join(self.tmpdir.name, "never.qcow2")
        reply = client.execute_request(
            {"execute": "blockdev-group-snapshot-sync", "id": "g",
             "arguments": {"devlist": [{"device": "nodev",
                                        "snapshot-file": target}]}})
        self.assert_error(reply, "DeviceNotFound", "g", ["nodev"])
        self.assertFalse(os.path.exists(target))


class BlockErrorClassWithDeviceTest(DaemonTestCase):
    """The block error classes that need a device (§6): DeviceInUse,
    OpenFileFailed, InvalidBlockFormat; a refused request creates nothing.
    Run only once the daemon registers the commands (the block issue)."""

    @classmethod
    def daemon_args(cls, workdir: str) -> list[str]:
        args = []
        for name in ["d0", "d1"]:
            with open(os.path.join(workdir, name + ".raw"), "wb") as f:
                f.truncate(1 << 20)
            args += ["--drive", f"id={name},file={workdir}/{name}.raw,format=raw"]
        return args

    def group(self, client: RawClient, *entries: dict[str, Any]) -> dict[str, Any]:
        names = {e["name"] for e in client.command("query-commands")}
        if "blockdev-group-snapshot-sync" not in names:
            self.skipTest("the daemon has no blockdev-group-snapshot-sync yet")
        return client.execute_request(
            {"execute": "blockdev-group-snapshot-sync", "id": "g",
             "arguments": {"devlist": list(entries)}})

    def files(self) -> set[str]:
        return set(os.listdir(self.tmpdir.name))

    def test_device_in_use(self) -> None:
        client = self.connect()
        before = self.files()
        target = os.path.join(self.tmpdir.name, "a.qcow2")
        other = os.path.join(self.tmpdir.name, "b.qcow2")
        reply = self.group(client, {"device": "d0", "snapshot-file": target},
                           {"device": "d0", "snapshot-file": other})
        self.assert_error(reply, "DeviceInUse", "g", ["d0"])
        self.assertEqual(self.files(), before)

    def test_open_file_failed(self) -> None:
        client = self.connect()
        existing = os.path.join(self.tmpdir.name, "exists.qcow2")
        with open(existing, "wb") as f:
            f.write(b"precious")
        before = self.files()
        fresh = os.path.join(self.tmpdir.name, "fresh.qcow2")
        reply = self.group(client, {"device": "d0", "snapshot-file": fresh},
                           {"device": "d1", "snapshot-file": existing})
        self.assert_error(reply, "OpenFileFailed", "g", [existing])
        self.assertEqual(self.files(), before)
        with open(existing, "rb") as f:
            self.assertEqual(f.read(), b"precious")
        # The same file named twice.
        reply = self.group(client, {"device": "d0", "snapshot-file": fresh},
                           {"device": "d1", "snapshot-file": fresh})
        self.assert_error(reply, "OpenFileFailed", "g", [fresh])
        self.assertEqual(self.files(), before)

    def test_invalid_block_format(self) -> None:
        client = self.connect()
        before = self.files()
        target = os.path.join(self.tmpdir.name, "c.img")
        for fmt in ["raw", "vmdk", "no-such-format"]:
            with self.subTest(format=fmt):
                reply = self.group(client, {"device": "d0", "snapshot-file": target,
                                            "format": fmt})
                self.assert_error(reply, "InvalidBlockFormat", "g")
        self.assertEqual(self.files(), before)

    def test_unknown_enum_value(self) -> None:
        client = self.connect()
        names = {e["name"] for e in client.command("query-commands")}
        if "blockdev-snapshot-sync" not in names:
            self.skipTest("the daemon has no blockdev-snapshot-sync yet")
        target = os.path.join(self.tmpdir.name, "m.qcow2")
        reply = client.execute_request(
            {"execute": "blockdev-snapshot-sync", "id": "m",
             "arguments": {"device": "d0", "snapshot-file": target,
                           "mode": "no-such-mode"}})
        self.assert_error(reply, "GenericError", "m", ["mode"])
        self.assertFalse(os.path.exists(target))


if __name__ == "__main__":
    qmp_harness.main()
