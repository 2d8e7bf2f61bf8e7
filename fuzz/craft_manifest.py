#!/usr/bin/env python3
"""Writes a Lance dataset manifest that adds a second fragment to the first fragment of IN: the
same data files, fragment id 1, and ROWS physical rows (any count, however absurd): the crafted
dataset of the bad-input catalogue and of the fuzz_queries seeds. The protobuf is walked and
re-encoded field by field (no protobuf package needed); the footer keeps IN's version and magic.
  craft_manifest.py IN OUT ROWS"""
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


def fields(b):
    i, out = 0, []
    while i < len(b):
        key, i = read_varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = read_varint(b, i)
        elif wire == 2:
            n, i = read_varint(b, i)
            val, i = b[i:i + n], i + n
        elif wire == 1:
            val, i = b[i:i + 8], i + 8
        elif wire == 5:
            val, i = b[i:i + 4], i + 4
        else:
            sys.exit("craft_manifest.py: unsupported wire type %d" % wire)
        out.append((num, wire, val))
    return out


def encode(fs):
    out = bytearray()
    for num, wire, val in fs:
        out += varint(num << 3 | wire)
        out += varint(val) if wire == 0 else varint(len(val)) + val if wire == 2 else val
    return bytes(out)


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
