#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The wire schema check itself (wire_check.py), without a daemon: it
must fail on each kind of disagreement between the JSON Schema of the
daemon's wire and a reply, and let through what the session's state
explains.  The other files of this suite run it on every request they
send."""

import os
import unittest
from typing import Any

from wire_check import SessionState, WireCheck, refused_as_request

OK: dict[str, Any] = {"return": {}}
VERSION: dict[str, Any] = {"return": {
    "qemu": {"major": 0, "minor": 1, "micro": 0}, "package": "x"}}


def error(error_class: str, desc: str) -> dict[str, Any]:
    return {"error": {"class": error_class, "desc": desc}}


class WireCheckTest(unittest.TestCase):
    check: WireCheck

    @classmethod
    def setUpClass(cls) -> None:
        path = os.environ.get("QAPIKIT_WIRE_SCHEMA")
        if not path:
            raise unittest.SkipTest("QAPIKIT_WIRE_SCHEMA is not set")
        cls.check = WireCheck(path)

    def session(self, negotiated: bool = True) -> SessionState:
        state = SessionState()
        state.negotiated = negotiated
        return state

    def agree(self, request: dict[str, Any], reply: dict[str, Any],
              state: SessionState | None = None) -> None:
        self.check.check(request, reply, state or self.session())

    def disagree(self, request: dict[str, Any], reply: dict[str, Any],
                 state: SessionState | None = None) -> None:
        with self.assertRaises(AssertionError):
            self.agree(request, reply, state)

    def test_request_errors_are_recognised(self) -> None:
        for reply in (error("GenericError", "request member 'foo' is not allowed"),
                      error("GenericError", "request has no 'execute' member"),
                      error("GenericError", "a request must be a JSON object"),
                      error("CommandNotFound", "command 'x' does not exist"),
                      error("GenericError", "'devlist[1].device' is missing"),
                      error("GenericError", "the value: expected object, got int"),
                      error("GenericError", "'actions[0].type': 'foo' is not a "
                            "value of the enum (expected 'a' or 'b')"),
                      error("GenericError", "'size' is out of range for uint8 "
                            "(0 to 255)"),
                      error("GenericError", "'a.b' is not an expected member")):
            self.assertTrue(refused_as_request(reply), reply)
        for reply in (OK, error("DeviceNotFound", "device 'x' not found"),
                      error("GenericError", "cannot open /x: No such file"),
                      error("GenericError", "'detect-zeroes' other than 'off' "
                            "is not supported")):
            self.assertFalse(refused_as_request(reply), reply)

    def test_agreements(self) -> None:
        self.agree({"execute": "query-version", "id": 1}, VERSION)
        self.agree({"execute": "quit"}, OK)
        self.agree({"execute": "blockdev-snapshot-sync",
                    "arguments": {"device": "d", "snapshot-file": "/x"}},
                   error("DeviceNotFound", "device 'd' not found"))
        self.agree({"execute": "blockdev-snapshot-sync",
                    "arguments": {"device": "d"}},
                   error("GenericError", "'snapshot-file' is missing"))
        self.agree({"execute": "no-such-command"},
                   error("CommandNotFound", "command 'no-such-command' does not exist"))

    def test_disagreements(self) -> None:
        # The document refuses, the daemon ran the command.
        self.disagree({"execute": "query-version", "arguments": {"x": 1}},
                      VERSION)
        self.disagree({"execute": "blockdev-snapshot-sync",
                       "arguments": {"device": "d"}},
                      error("DeviceNotFound", "device 'd' not found"))
        # The document accepts, the daemon refused the request.
        self.disagree({"execute": "query-version"},
                      error("GenericError", "request member 'x' is not allowed"))
        self.disagree({"execute": "query-version"},
                      error("CommandNotFound", "command 'query-version' does not exist"))

    def test_replies_and_events(self) -> None:
        # A success reply is held to reply:NAME.
        self.disagree({"execute": "query-version"}, OK)
        self.disagree({"execute": "quit"}, {"return": {"extra": 1}})
        stamp = {"seconds": 1, "microseconds": 2}
        self.check.check_event({"event": "SHUTDOWN", "timestamp": stamp,
                                "data": {"guest": False, "reason": "host-qmp-quit"}})
        for event in ({"event": "SHUTDOWN", "timestamp": stamp},
                      {"event": "SHUTDOWN", "timestamp": stamp,
                       "data": {"guest": False, "reason": "no-such-reason"}},
                      {"event": "NO_SUCH_EVENT", "timestamp": stamp}):
            with self.subTest(event=event), self.assertRaises(AssertionError):
                self.check.check_event(event)

    def test_session_state(self) -> None:
        refused = error("CommandNotFound", "capabilities were already negotiated")
        self.agree({"execute": "qmp_capabilities"}, refused, self.session(True))
        self.disagree({"execute": "qmp_capabilities"}, refused, self.session(False))
        self.agree({"execute": "query-version"}, refused, self.session(False))
        not_enabled = error("GenericError", "request member 'exec-oob' is not "
                            "allowed: out-of-band execution is not enabled")
        self.agree({"exec-oob": "query-version"}, not_enabled)
        state = self.session()
        state.update({"execute": "qmp_capabilities",
                      "arguments": {"enable": ["oob"]}}, OK)
        self.disagree({"exec-oob": "query-version"}, not_enabled, state)


if __name__ == "__main__":
    unittest.main(verbosity=2)
