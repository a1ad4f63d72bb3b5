# SPDX-License-Identifier: MIT
"""The JSON Schema of the daemon's wire, held to what the daemon does.

`qapi-gen --json-schema` describes every request the daemon accepts
(docs/spec/qapi-language.md §12.3); its root is meant to accept exactly
the requests that pass the daemon's request checks (docs/spec/
qmp-protocol.md §4, checks 2 to 12).  When QAPIKIT_WIRE_SCHEMA names that
document (meson sets it to the one made from qapi/qmp-wire.json), the
harness hands every request a test sends as a JSON value, with its reply,
to WireCheck.check(), which fails the test when the two disagree:

- the document accepts the request, and the daemon refused it as a
  request (an envelope error, an unknown command, an argument error);
- the document refuses it, and the daemon ran the command (a success, or
  an error from the command itself, check 13);
- a success reply is not what the command's `reply:NAME` says, or an
  event the daemon sends is not what its `event:NAME` says.

What the document cannot know is left out, as §12.3/6 lists: the state
of the session (check 9, negotiation; `exec-oob` before OOB is enabled,
check 4), and JSON-level refusals (checks 1 and 3), whose replies carry
no id and so are never paired with their request.

Python's standard library has no JSON Schema validator: this needs
Debian's python3-jsonschema, which `make deps` installs.  A test run
that sets QAPIKIT_WIRE_SCHEMA without it fails; one that does not set it
checks nothing (running a test file by hand).
"""

import atexit
import json
import os
import re
import sys
from typing import Any, Optional

# Reply descriptions of checks 2 to 11 (qmp-dispatch.c) ...
_REQUEST_ERROR_PREFIXES = (
    "a request must be",
    "request member ",
    "request has ",
    "command '",
)

# ... and of check 12, the input visitor's: the member's path, quoted, or
# "the value" for the arguments object itself, then what is wrong
# (json-input-visitor.c, and the generated visitors of unions and
# alternates).  A command's own error (check 13) may also start with a
# quoted name, so the whole shape is matched.
_ARGUMENT_ERROR = re.compile(
    r"('[^']*'|the value)"
    r"( is missing| is not an expected (member|element)"
    r"|: expected .+, got .+|: the string contains a NUL character"
    r"|: '.*' is not a value of the enum.*| is out of range for .+"
    r"| is not a finite number|(: '.*')? is \S+ and refused by the "
    r"compatibility policy| has an invalid value for union \S+"
    r"| has no branch for this kind of JSON value in alternate \S+)")


def refused_as_request(reply: dict[str, Any]) -> bool:
    """True when REPLY is a refusal by the request checks, before any
    command ran (qmp-protocol.md §4, checks 2 to 12)."""
    error = reply.get("error")
    if error is None:
        return False
    if error["class"] == "CommandNotFound":
        return True
    return (error["class"] == "GenericError"
            and (error["desc"].startswith(_REQUEST_ERROR_PREFIXES)
                 or _ARGUMENT_ERROR.fullmatch(error["desc"]) is not None))


class SessionState:
    """What a session has negotiated, as far as its client has seen."""

    def __init__(self) -> None:
        self.negotiated = False
        self.oob = False

    def explains(self, request: dict[str, Any], reply: dict[str, Any]) -> bool:
        """True when the session's state, not the request, explains a
        refusal of a request the document accepts."""
        error = reply.get("error", {})
        name = request.get("execute", request.get("exec-oob"))
        if error.get("class") == "CommandNotFound":
            # Check 9: qmp_capabilities alone before negotiation, and
            # never after it.
            return self.negotiated == (name == "qmp_capabilities")
        return (not self.oob and "exec-oob" in request
                and error.get("desc", "").startswith(
                    "request member 'exec-oob' is not allowed"))

    def update(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        if request.get("execute") == "qmp_capabilities" and "return" in reply:
            self.negotiated = True
            arguments = request.get("arguments") or {}
            self.oob = "oob" in arguments.get("enable", [])


class WireCheck:
    """The document's root as a validator, and the tally of checks."""

    def __init__(self, path: str) -> None:
        try:
            from jsonschema import Draft202012Validator
        except ImportError:
            raise RuntimeError(
                "QAPIKIT_WIRE_SCHEMA is set but python3-jsonschema is "
                "missing: install it (make deps)") from None
        with open(path, encoding="utf-8") as f:
            self.document = json.load(f)
        self.validator = Draft202012Validator(self.document)
        self._validator_class = Draft202012Validator
        self._entries: dict[str, Any] = {}
        self.path = path
        self.checked = 0
        self.refused = 0
        self.disagreements = 0
        self.replies = 0
        self.events = 0

    def entry(self, ref: str) -> Any:
        """A validator of the document's $defs entry REF; None when there
        is none."""
        if ref not in self.document["$defs"]:
            return None
        if ref not in self._entries:
            self._entries[ref] = self._validator_class({
                "$schema": self.document["$schema"],
                "$defs": self.document["$defs"],
                "$ref": f"#/$defs/{ref}",
            })
        return self._entries[ref]

    def _conforms(self, ref: str, message: dict[str, Any]) -> None:
        """MESSAGE, which the daemon sent, must be what entry REF says."""
        validator = self.entry(ref)
        if validator is None:
            self.disagreements += 1
            raise AssertionError(f"{self.path} has no {ref} for {message}")
        error = next(iter(validator.iter_errors(message)), None)
        if error is not None:
            self.disagreements += 1
            raise AssertionError(
                f"the daemon sent {json.dumps(message)}, which {ref} of "
                f"{self.path} refuses: {error.message}")

    def check(self, request: Any, reply: dict[str, Any],
              state: SessionState) -> None:
        """Fail when the document and the daemon disagree on REQUEST."""
        if not isinstance(request, dict):
            return
        valid = self.validator.is_valid(request)
        refused = refused_as_request(reply)
        if valid and refused and state.explains(request, reply):
            return
        self.checked += 1
        self.refused += not valid
        self.disagreements += valid == refused
        if valid and refused:
            raise AssertionError(
                f"{self.path} accepts {json.dumps(request)}, "
                f"the daemon refused it: {reply['error']}")
        if not valid and not refused:
            error = next(iter(self.validator.iter_errors(request)))
            raise AssertionError(
                f"{self.path} refuses {json.dumps(request)} "
                f"({error.message}), the daemon took it: {reply}")
        if "return" in reply:
            self.replies += 1
            name = request.get("execute", request.get("exec-oob"))
            self._conforms(f"reply:{name}", reply)

    def check_event(self, event: dict[str, Any]) -> None:
        """Fail when the document has no such event, or refuses it."""
        self.events += 1
        self._conforms(f"event:{event['event']}", event)

    def report(self) -> None:
        sys.stderr.write(
            f"wire schema: {self.checked} requests checked against "
            f"{os.path.basename(self.path)}: {self.refused} refused; "
            f"{self.replies} replies and {self.events} events checked; "
            f"{self.disagreements} disagreements\n")


_wire_check: Optional[WireCheck] = None


def wire_check() -> Optional[WireCheck]:
    """The process's WireCheck, or None when QAPIKIT_WIRE_SCHEMA is unset."""
    global _wire_check
    path = os.environ.get("QAPIKIT_WIRE_SCHEMA")
    if _wire_check is None and path:
        _wire_check = WireCheck(path)
        atexit.register(_wire_check.report)
    return _wire_check
