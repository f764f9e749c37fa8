"""Protobuf wire pieces the tests build or read by hand (messages without generated code)."""


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_uvarint(buf, i):
    """The varint at `buf[i]` and the offset after it."""
    value = shift = 0
    while True:
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            return value, i
        shift += 7


def bytes_field(number, payload):
    """A length-delimited field."""
    return uvarint(number << 3 | 2) + uvarint(len(payload)) + payload


def varint_field(number, value):
    """A varint field, absent when 0 (proto3)."""
    return uvarint(number << 3) + uvarint(value) if value else b""
