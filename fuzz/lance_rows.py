#!/usr/bin/env python3
"""Makes a Lance file claim ROWS rows while its pages keep their data: every column's page
length (ColumnMetadata.Page.length), the mini-block layout's num_items inside the page's
encoding (field 9, found by walking the nested messages) and the file's length
(FileDescriptor.length) are rewritten in place, so ROWS must take as many varint bytes as the
count it replaces (100 -> 127 in a file of 100 rows). For the bad-input catalogue and the
fuzz_lance_file seeds.
  lance_rows.py FILE ROWS"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pbwire import parses, varint, walk  # noqa: E402


def put(b, s, e, value):
    new = varint(value)
    if len(new) != e - s:
        sys.exit("lance_rows.py: %d does not take %d varint bytes" % (value, e - s))
    b[s:e] = new


def set_nested(b, start, end, num, old, value):
    """Rewrites every varint field num equal to old in b[start:end] and in every message
    nested in it (length-delimited fields that parse as messages)."""
    for f, wire, s, e, v in list(walk(b, start, end)):
        if wire == 0 and f == num and v == old:
            put(b, s, e, value)
        elif wire == 2 and e > s and parses(b, s, e):
            set_nested(b, s, e, num, old, value)


path, rows = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, 'rb').read())
cmo, gbo = struct.unpack('<QQ', b[-32:-16])
ncols = struct.unpack('<I', b[-12:-8])[0]
for c in range(ncols):
    off, ln = struct.unpack('<QQ', b[cmo + 16 * c:cmo + 16 * c + 16])
    for f, wire, s, e, _ in list(walk(b, off, off + ln)):
        if f == 2 and wire == 2:  # ColumnMetadata.pages
            for pf, pw, ps, pe, pv in list(walk(b, s, e)):
                if pf == 3 and pw == 0:  # Page.length
                    put(b, ps, pe, rows)
                    set_nested(b, s, e, 9, pv, rows)  # MiniBlockLayout.num_items
goff, glen = struct.unpack('<QQ', b[gbo:gbo + 16])
for f, wire, s, e, _ in list(walk(b, goff, goff + glen)):
    if f == 2 and wire == 0:  # FileDescriptor.length
        put(b, s, e, rows)
open(path, 'wb').write(b)
