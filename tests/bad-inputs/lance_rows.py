#!/usr/bin/env python3
"""Makes a Lance file claim ROWS rows while its pages keep their data: every single-page
column's page length (ColumnMetadata.Page.length), the mini-block layout's num_items inside the
page's encoding (field 9, found by walking the nested messages) and the file's length
(FileDescriptor.length) are rewritten in place, so ROWS must take as many varint bytes as the count it replaces
(100 -> 127 in a file of 100 rows). For the bad-input catalogue.
  lance_rows.py FILE ROWS"""
import struct
import sys


def read_varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def varint(v):
    out = bytearray()
    while True:
        c, v = v & 0x7F, v >> 7
        out.append(c | 0x80 if v else c)
        if not v:
            return bytes(out)


def parses(b, start, end):
    """Whether b[start:end] reads as a sequence of protobuf fields."""
    i = start
    try:
        while i < end:
            key, i = read_varint(b, i)
            wire = key & 7
            if key >> 3 == 0 or wire not in (0, 1, 2, 5):
                return False
            if wire == 0:
                _, i = read_varint(b, i)
            elif wire == 2:
                n, i = read_varint(b, i)
                i += n
            else:
                i += 8 if wire == 1 else 4
        return i == end
    except IndexError:
        return False


def set_nested(b, start, end, num, old, value):
    """Rewrites every varint field num equal to old, in b[start:end] and every message nested
    in it (length-delimited fields that parse as messages)."""
    i = start
    while i < end:
        key, i = read_varint(b, i)
        f, wire = key >> 3, key & 7
        if wire == 0:
            j = i
            v, i = read_varint(b, i)
            if f == num and v == old:
                b[j:i] = varint(value)
        elif wire == 2:
            n, i = read_varint(b, i)
            if n and parses(b, i, i + n):
                set_nested(b, i, i + n, num, old, value)
            i += n
        else:
            i += 8 if wire == 1 else 4


def set_field(b, start, end, num, value, nested=None):
    """Rewrites varint field num (or, with nested, field num of each nested message) in
    b[start:end] in place."""
    i, found = start, None
    while i < end:
        key, i = read_varint(b, i)
        f, wire = key >> 3, key & 7
        if wire == 0:
            j = i
            old, i = read_varint(b, i)
            if f == num and nested is None:
                new = varint(value)
                if len(new) != i - j:
                    sys.exit("lance_rows.py: %d and %d differ in varint length" % (old, value))
                b[j:i] = new
                found = old
        elif wire == 2:
            n, i = read_varint(b, i)
            if nested is not None and f == nested:
                page_rows = set_field(b, i, i + n, num, value)
                set_nested(b, i, i + n, 9, page_rows, value)  # MiniBlockLayout.num_items
            i += n
        else:
            i += 8 if wire == 1 else 4
    return found


path, rows = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, 'rb').read())
cmo, gbo = struct.unpack('<QQ', b[-32:-16])
ncols = struct.unpack('<I', b[-12:-8])[0]
for c in range(ncols):
    off, ln = struct.unpack('<QQ', b[cmo + 16 * c:cmo + 16 * c + 16])
    set_field(b, off, off + ln, 3, rows, nested=2)  # ColumnMetadata.pages[].length
goff, glen = struct.unpack('<QQ', b[gbo:gbo + 16])
set_field(b, goff, goff + glen, 2, rows)            # FileDescriptor.length
open(path, 'wb').write(b)
