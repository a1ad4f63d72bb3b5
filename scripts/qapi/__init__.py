# SPDX-License-Identifier: MIT
"""qapikit's QAPI schema compiler.

The package is layered; each layer only uses the ones before it:

  source.py  where things are (file, line, column, include chain)
  error.py   the one diagnostic type, QAPIError
  common.py  name mangling (c_name, camel_to_upper) and C conditions
  parser.py  text -> top-level expressions and doc blocks, includes, pragmas
  doc.py     doc blocks -> sections, and the doc checks
  check.py   shape checks on raw expressions
  schema.py  the typed model: entities that resolve and check themselves
  dump.py    the --dump-model backend
  gen/       the C backends (gen/__init__.py lists its modules)
  main.py    the command line
"""
