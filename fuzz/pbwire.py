"""Protobuf wire format, just enough to edit Lance manifests and file metadata in place or by
re-encoding (no protobuf package needed): used by craft_manifest.py and lance_rows.py."""


def read_varint(b, i):
    """The varint at b[i] and the offset after it."""
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


def walk(b, start, end):
    """Yields (field, wire, value_start, value_end, value) for each field in b[start:end]: the
    value is the integer of a varint, else None (its bytes are b[value_start:value_end]).
    Raises ValueError on bytes that are not protobuf fields."""
    i = start
    while i < end:
        key, i = read_varint(b, i)
        f, wire = key >> 3, key & 7
        j, v = i, None
        if f == 0 or wire not in (0, 1, 2, 5):
            raise ValueError("not protobuf")
        if wire == 0:
            v, i = read_varint(b, i)
        elif wire == 2:
            n, j = read_varint(b, i)
            i = j + n
        else:
            i += 8 if wire == 1 else 4
        if i > end:
            raise ValueError("field runs past the end")
        yield f, wire, j, i, v


def parses(b, start, end):
    """Whether b[start:end] reads as a sequence of protobuf fields."""
    try:
        for _ in walk(b, start, end):
            pass
        return True
    except (ValueError, IndexError):
        return False


def fields(b):
    """b's fields as (field, wire, value): the integer of a varint, else the bytes."""
    return [(f, w, v if w == 0 else bytes(b[s:e])) for f, w, s, e, v in walk(b, 0, len(b))]


def encode(fs):
    """The bytes of fields given as fields() returns them."""
    out = bytearray()
    for num, wire, val in fs:
        out += varint(num << 3 | wire)
        out += varint(val) if wire == 0 else varint(len(val)) + val if wire == 2 else val
    return bytes(out)
