# SPDX-License-Identifier: MIT
"""Writing generated files: all or nothing, and only what changed.

The backends render every file in memory first; write() runs only after
the whole schema was checked and rendered (docs/spec/qapi-language.md §12.2/5).
A file whose content is already on disk is left alone, mtime included,
so build tools do not recompile; others are written to a temporary file
beside them and renamed over, so a reader never sees half a file.
"""

import os
import tempfile
from typing import Dict, List

from ..error import QAPIError


class OutputFiles:
    def __init__(self) -> None:
        self.files: Dict[str, str] = {}        # relative path -> text

    def add(self, path: str, text: str) -> None:
        assert path not in self.files, path
        self.files[path] = text

    def write(self, out_dir: str) -> List[str]:
        """Write every file under OUT_DIR; return the paths written."""
        written = []
        for rel in sorted(self.files):
            path = os.path.join(out_dir, rel)
            data = self.files[rel].encode('utf-8')
            try:
                with open(path, 'rb') as old:
                    if old.read() == data:
                        continue
            except OSError:
                pass
            try:
                os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or '.',
                                           prefix='.' + os.path.basename(path),
                                           suffix='.tmp')
                try:
                    with os.fdopen(fd, 'wb') as new:
                        new.write(data)
                    os.chmod(tmp, 0o644)
                    os.replace(tmp, path)
                except BaseException:
                    os.unlink(tmp)
                    raise
            except OSError as err:
                raise QAPIError(None, '%s: cannot write: %s'
                                % (path, err.strerror or err)) from err
            written.append(path)
        return written
