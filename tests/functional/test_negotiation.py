#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Greeting (docs/spec/qmp-protocol.md §2), capability negotiation (§3) and the
commands every monitor provides (§3/2), against the real daemon."""

from __future__ import annotations

from typing import Any

import qmp_harness
from qmp_harness import DaemonTestCase


class GreetingTest(DaemonTestCase):
    def test_greeting_shape(self) -> None:
        client = self.connect(negotiate=False)
        greeting = client.greeting
        assert greeting is not None
        qmp_harness.check_greeting(greeting)
        # §2/3: qapikit-blockd always offers OOB, and only that.
        self.assertEqual(greeting["QMP"]["capabilities"], ["oob"])

    def test_greeting_is_unprompted_and_alone(self) -> None:
        client = self.connect(negotiate=False)
        # Nothing else arrives before we send something.
        client.expect_nothing()

    def test_query_version_matches_greeting(self) -> None:
        client = self.connect()
        version = client.command("query-version")
        qmp_harness.check_version_info(version)
        assert client.greeting is not None
        self.assertEqual(version, client.greeting["QMP"]["version"])


class NegotiationTest(DaemonTestCase):
    def assert_negotiating(self, client: qmp_harness.RawClient) -> None:
        """The session is still in negotiation mode (§3)."""
        reply = client.execute_request({"execute": "query-version", "id": "probe"})
        self.assert_error(reply, "CommandNotFound", "probe", ["qmp_capabilities"])

    def assert_command_mode(self, client: qmp_harness.RawClient) -> None:
        reply = client.execute_request({"execute": "query-version", "id": "probe"})
        self.assertIn("return", reply)
        again = client.execute_request({"execute": "qmp_capabilities", "id": "again"})
        self.assert_error(again, "CommandNotFound", "again")

    def test_commands_refused_before_negotiation(self) -> None:
        client = self.connect(negotiate=False)
        for name in ["query-version", "query-commands", "query-qmp-schema",
                     "quit", "no-such-command", ""]:
            with self.subTest(name=name):
                reply = client.execute_request({"execute": name, "id": name})
                self.assert_error(reply, "CommandNotFound", name)
        self.assert_negotiating(client)

    def test_id_kept_in_negotiation_error(self) -> None:
        client = self.connect(negotiate=False)
        for request_id in [1, "x", [1, {"a": None}], None, True]:
            with self.subTest(id=request_id):
                reply = client.execute_request(
                    {"execute": "query-version", "id": request_id})
                self.assert_error(reply, "CommandNotFound", request_id)

    def test_envelope_checks_come_first(self) -> None:
        # §4 checks 1-8 run before the negotiation check (9).
        client = self.connect(negotiate=False)
        reply = client.execute_request(
            {"execute": "query-version", "foo": 1, "id": "e4"})
        self.assert_error(reply, "GenericError", "e4", ["foo"])
        reply = client.execute_request(
            {"execute": "query-version", "arguments": [], "id": "e8"})
        self.assert_error(reply, "GenericError", "e8", ["arguments"])
        self.assert_negotiating(client)

    def test_successful_forms(self) -> None:
        forms: list[dict[str, Any]] = [
            {"execute": "qmp_capabilities"},
            {"execute": "qmp_capabilities", "arguments": {}},
            {"execute": "qmp_capabilities", "arguments": {"enable": []}},
            {"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}},
            {"execute": "qmp_capabilities",
             "arguments": {"enable": ["oob", "oob"]}},
        ]
        for form in forms:
            with self.subTest(request=form):
                client = self.connect(negotiate=False)
                reply = client.execute_request(dict(form, id="n"))
                # §3/1: the very next message is the reply.
                self.assertEqual(reply, {"return": {}, "id": "n"})
                self.assertEqual(client.events, [])
                self.assert_command_mode(client)
                client.close()

    def test_without_id(self) -> None:
        client = self.connect(negotiate=False)
        client.send(b'{"execute": "qmp_capabilities"}')
        self.assertEqual(client.recv(), {"return": {}})
        client.send(b'{"execute": "query-version"}\r\n')
        reply = client.recv()
        self.assertEqual(set(reply), {"return"})

    def test_refused_forms_stay_negotiating(self) -> None:
        cases: list[tuple[Any, str]] = [
            ({"enable": ["foo"]}, "enable[0]"),
            ({"enable": ["oob", "bogus"]}, "enable[1]"),
            ({"enable": ["OOB"]}, "enable[0]"),
            ({"enable": [1]}, "enable[0]"),
            ({"enable": [None]}, "enable[0]"),
            ({"enable": "oob"}, "enable"),
            ({"enable": {"oob": True}}, "enable"),
            ({"enable": None}, "enable"),
            ({"foo": 1}, "foo"),
            ({"enable": [], "foo": 1}, "foo"),
        ]
        for arguments, member in cases:
            with self.subTest(arguments=arguments):
                client = self.connect(negotiate=False)
                reply = client.execute_request(
                    {"execute": "qmp_capabilities", "arguments": arguments,
                     "id": "bad"})
                self.assert_error(reply, "GenericError", "bad", [member])
                self.assert_negotiating(client)
                # A correct call still succeeds afterwards.
                client.negotiate()
                self.assert_command_mode(client)
                client.close()

    def test_second_negotiation_refused(self) -> None:
        client = self.connect()
        for arguments in [None, {}, {"enable": ["oob"]}, {"enable": ["bogus"]}]:
            request: dict[str, Any] = {"execute": "qmp_capabilities", "id": "2nd"}
            if arguments is not None:
                request["arguments"] = arguments
            with self.subTest(arguments=arguments):
                reply = client.execute_request(request)
                self.assert_error(reply, "CommandNotFound", "2nd")
        client.command("query-version")


class BuiltinCommandsTest(DaemonTestCase):
    def test_query_commands(self) -> None:
        client = self.connect()
        commands = client.command("query-commands")
        self.assertIsInstance(commands, list)
        names = []
        for entry in commands:
            self.assertIsInstance(entry, dict)
            self.assertEqual(set(entry), {"name"}, entry)
            self.assertIsInstance(entry["name"], str)
            names.append(entry["name"])
        self.assertEqual(len(names), len(set(names)), "duplicate names")
        for name in ["query-version", "query-commands", "query-qmp-schema",
                     "quit"]:
            self.assertIn(name, names)

    def test_listed_commands_exist(self) -> None:
        # Every listed command is registered: a bogus argument gets an
        # argument error (§4 check 12), never CommandNotFound, and has no
        # side effect (validation is complete before the handler runs).
        client = self.connect()
        names = [entry["name"] for entry in client.command("query-commands")]
        for name in names:
            if name == "qmp_capabilities":
                continue
            with self.subTest(command=name):
                reply = client.execute_request(
                    {"execute": name, "id": name,
                     "arguments": {"no-such-member-xyz": 1}})
                # (The first error found may be a missing member.)
                self.assert_error(reply, "GenericError", name)

    def test_query_qmp_schema(self) -> None:
        client = self.connect()
        schema = client.command("query-qmp-schema")
        self.assertIsInstance(schema, list)
        self.assertGreater(len(schema), 0)
        by_name: dict[str, dict[str, Any]] = {}
        for entry in schema:
            self.assertIsInstance(entry, dict)
            self.assertIn("name", entry)
            self.assertIn("meta-type", entry)
            self.assertNotIn(entry["name"], by_name, "duplicate entity")
            by_name[entry["name"]] = entry
        commands = {name for name, entry in by_name.items()
                    if entry["meta-type"] == "command"}
        listed = {entry["name"] for entry in client.command("query-commands")}
        # Everything query-commands lists is described by the schema,
        # qmp_capabilities included (QEMU lists it too).
        self.assertIn("qmp_capabilities", listed)
        self.assertLessEqual(listed, commands)
        for name in ["query-version", "query-commands", "query-qmp-schema",
                     "quit"]:
            self.assertIn(name, commands)
            entry = by_name[name]
            self.assertIn(entry["arg-type"], by_name)
            self.assertIn(entry["ret-type"], by_name)
        events = {name for name, entry in by_name.items()
                  if entry["meta-type"] == "event"}
        self.assertIn("SHUTDOWN", events)

    def test_no_arguments_accepted(self) -> None:
        client = self.connect()
        for name in ["query-version", "query-commands", "query-qmp-schema"]:
            with self.subTest(command=name):
                reply = client.execute_request(
                    {"execute": name, "arguments": {"x": 1}, "id": 7})
                self.assert_error(reply, "GenericError", 7, ["x"])
                reply = client.execute_request(
                    {"execute": name, "arguments": {}, "id": 8})
                self.assertIn("return", reply)


if __name__ == "__main__":
    qmp_harness.main()
