#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test embedded-monitor: examples/embedded-monitor.c, run as a user would.

    test-embedded-monitor.py PROGRAM

Starts PROGRAM on a unix socket in a temporary directory, reads the
address line it prints, connects, checks the greeting, negotiates, runs
'count' and sees the COUNTED event before the reply, checks that
query-qmp-schema lists the command and the event, that a second client
gets the event too, then stops the program with SIGTERM and checks its
exit status and that the socket is gone.  Standard library only; the
timeouts guard against hangs, nothing asserts on time.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import unittest
from typing import Any, Dict, List

TIMEOUT = 30.0
PROGRAM = ''


class Client:
    """A QMP client over a unix socket that reads CRLF-ended lines."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.buf = b''

    def close(self) -> None:
        self.sock.close()

    def send(self, obj: Dict[str, Any]) -> None:
        # Compact and unterminated, as qemu.qmp sends it.
        self.sock.sendall(json.dumps(obj, separators=(',', ':')).encode())

    def message(self) -> Dict[str, Any]:
        while b'\r\n' not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError('the server closed the connection')
            self.buf += data
        line, self.buf = self.buf.split(b'\r\n', 1)
        line.decode('ascii')            # 7-bit ASCII only (§1/7)
        msg = json.loads(line)
        assert isinstance(msg, dict), line
        return msg

    def negotiate(self) -> Dict[str, Any]:
        greeting = self.message()
        self.send({'execute': 'qmp_capabilities'})
        reply = self.message()
        assert reply == {'return': {}}, reply
        return greeting


class EmbeddedMonitorTest(unittest.TestCase):

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, 'em.sock')
        self.proc = subprocess.Popen([PROGRAM, self.path],
                                     stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        self.assertEqual(line, 'embedded-monitor: QMP on unix:%s\n'
                         % self.path)
        self.clients: List[Client] = []

    def tearDown(self) -> None:
        for client in self.clients:
            client.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.tmp.cleanup()

    def client(self) -> Client:
        client = Client(self.path)
        self.clients.append(client)
        return client

    def test_session(self) -> None:
        a = self.client()
        greeting = a.negotiate()
        self.assertEqual(greeting['QMP']['version'],
                         {'qemu': {'major': 0, 'minor': 1, 'micro': 0},
                          'package': 'embedded-monitor 0.1.0'})
        self.assertEqual(greeting['QMP']['capabilities'], ['oob'])
        b = self.client()
        b.negotiate()

        a.send({'execute': 'count', 'arguments': {'name': 'sheep'},
                'id': 'c1'})
        event = a.message()
        self.assertEqual(event['event'], 'COUNTED')
        self.assertEqual(event['data'], {'name': 'sheep', 'total': 1})
        self.assertEqual(set(event['timestamp']), {'seconds', 'microseconds'})
        self.assertEqual(a.message(),
                         {'return': {'name': 'sheep', 'total': 1},
                          'id': 'c1'})
        self.assertEqual(b.message()['data'], {'name': 'sheep', 'total': 1})

        a.send({'execute': 'count',
                'arguments': {'name': 'sheep', 'step': 41}, 'id': 'c2'})
        self.assertEqual(a.message()['event'], 'COUNTED')
        self.assertEqual(a.message()['return']['total'], 42)

        # The handler's error and the marshaller's argument check.
        a.send({'execute': 'count', 'arguments': {'name': ''}, 'id': 'e1'})
        reply = a.message()
        self.assertEqual(reply['error']['class'], 'GenericError')
        self.assertEqual(reply['id'], 'e1')
        a.send({'execute': 'count', 'arguments': {'step': 1}, 'id': 'e2'})
        reply = a.message()
        self.assertEqual(reply['error']['class'], 'GenericError')
        self.assertIn('name', reply['error']['desc'])

        a.send({'execute': 'query-qmp-schema', 'id': 's'})
        schema = a.message()['return']
        names = {entry['name']: entry['meta-type'] for entry in schema}
        self.assertEqual(names['count'], 'command')
        self.assertEqual(names['COUNTED'], 'event')
        self.assertEqual(names['qmp_capabilities'], 'command')

        a.send({'execute': 'query-commands', 'id': 'q'})
        commands = {c['name'] for c in a.message()['return']}
        self.assertEqual(commands, {'count', 'qmp_capabilities',
                                    'query-version', 'query-commands',
                                    'query-qmp-schema'})

        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=TIMEOUT), 0)
        self.assertFalse(os.path.exists(self.path))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: test-embedded-monitor.py PROGRAM')
    PROGRAM = sys.argv.pop()
    unittest.main(verbosity=2)
