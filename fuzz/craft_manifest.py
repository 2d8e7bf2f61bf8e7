#!/usr/bin/env python3
"""Writes a Lance dataset manifest that adds a second fragment to the first fragment of IN: the
same data files, fragment id 1, and ROWS physical rows (any count, however absurd): the crafted
dataset of the bad-input catalogue and of the fuzz_queries seeds. The protobuf is re-encoded
field by field (pbwire.py); the footer keeps IN's version and magic.
  craft_manifest.py IN OUT ROWS"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pbwire import encode, fields  # noqa: E402


def main():
    src, dst, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    b = open(src, 'rb').read()
    pos = struct.unpack('<Q', b[-16:-8])[0]
    n = struct.unpack('<I', b[pos:pos + 4])[0]
    m = fields(b[pos + 4:pos + 4 + n])
    first = next(f for f in m if f[0] == 2)  # Manifest.fragments
    frag = [(1, 0, 1)] + [(num, w, rows if num == 4 else v)  # id 1; DataFragment.physical_rows
                          for num, w, v in fields(first[2]) if num != 1]
    out = []
    for f in m:
        out.append(f)
        if f is first:
            out.append((2, 2, encode(frag)))
    body = encode(out)
    open(dst, 'wb').write(struct.pack('<I', len(body)) + body + struct.pack('<Q', 0) + b[-8:])


main()
