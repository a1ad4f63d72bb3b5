# SPDX-License-Identifier: MIT
"""The --doc backend: the reference manual of a schema, from its doc
comments and the checked model (docs/spec/qapi-language.md §12.4).

model.py builds the manual whatever the format; text.py parses the doc
text's markup; layout.py holds what the formats share; html.py,
markdown.py and man.py each render one format.
"""

import os
from typing import Callable, Dict

from ..schema import QAPISchema
from .model import Manual, build_manual

FORMATS = ('html', 'markdown', 'man')

# The file name's extension per format: BASENAME.EXT.
EXTENSIONS = {'html': 'html', 'markdown': 'md', 'man': '7'}


def file_name(schema_path: str, fmt: str, prefix: str = '') -> str:
    """PREFIX + the schema's base name without '.json' + the format's
    extension: qmp-wire.json gives qmp-wire.html, .md or .7."""
    return '%s%s.%s' % (prefix, manual_name(schema_path), EXTENSIONS[fmt])


def manual_name(schema_path: str) -> str:
    base = os.path.basename(schema_path)
    return base[:-len('.json')] if base.endswith('.json') else base


def render(schema: QAPISchema, fmt: str, schema_path: str,
           version: str, prefix: str = '') -> str:
    """The manual of SCHEMA (read from SCHEMA_PATH) in format FMT; its
    name (a man page's) is that of its file, PREFIX included."""
    from .html import render_html
    from .man import render_man
    from .markdown import render_markdown
    renderers: Dict[str, Callable[[Manual, str], str]] = {
        'html': render_html, 'markdown': render_markdown, 'man': render_man}
    manual = build_manual(schema, prefix + manual_name(schema_path),
                          os.path.basename(schema_path))
    return renderers[fmt](manual, version)
