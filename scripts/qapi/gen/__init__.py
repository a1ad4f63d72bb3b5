# SPDX-License-Identifier: MIT
"""The C backends: render every output file of docs/spec/qapi-language.md §12.2.

generate() renders each module's files from the Jinja2 templates in
scripts/qapi/templates/ and returns them, unwritten; main.py writes them
once everything rendered.

  environment.py  the Jinja2 environment: templates, filters, the cache
                  of compiled templates
  views.py        what the templates print of each entity; the walk of
                  the schema (a SchemaVisitor) that sorts each module's
                  entities for its files
  render.py       the files of each module and the schema-wide ones;
                  generate(), in one process or, for a large schema,
                  with a pool of forked workers
  ctypes.py       how entities look in C: type names, visit functions,
                  file names, #if wrapping
  callables.py    the C parameters of commands and events
  introspect.py   the query-qmp-schema literal
  output.py       writing the files: all or nothing, only what changed
"""

from .environment import GEN_ABI
from .output import OutputFiles
from .render import generate

__all__ = ['GEN_ABI', 'OutputFiles', 'generate']
