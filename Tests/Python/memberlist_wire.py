"""A raw memberlist client over dskit's TCP transport, byte by byte, to pin down what a peer accepts.

Frames (dskit kv/memberlist/tcp_transport.go): each operation is one TCP connection; first byte
0x01 = packet (addr length byte, "ip:port", payload, md5(payload)), 0x02 = memberlist stream.
Memberlist messages (hashicorp/memberlist net.go): a type byte then msgpack (go-msgpack
MsgpackHandle: structs as maps keyed by field name); 6 = pushPull, 8 = user, 9 = compressed
(LZW, LSB, literal width 8). Ring values: KeyValuePair protobuf whose value is the snappy block
format of ring.Desc.
"""
import hashlib
import socket
import struct

from protowire import bytes_field, uvarint, varint_field

PACKET, STREAM = 1, 2
PUSH_PULL_MSG, USER_MSG, COMPRESS_MSG = 6, 8, 9


# --- protobuf (encode only what the ring uses) ---


def instance_desc(*, addr, timestamp, state, tokens, registered_timestamp, id, zone=""):
    packed = b"".join(uvarint(t) for t in tokens)
    return (bytes_field(1, addr.encode()) + varint_field(2, timestamp) + varint_field(3, state)
            + (bytes_field(6, packed) if tokens else b"") + (bytes_field(7, zone.encode()) if zone else b"")
            + varint_field(8, registered_timestamp) + bytes_field(9, id.encode()))


def ring_desc(instances):
    """ring.Desc from {id: InstanceDesc bytes}."""
    return b"".join(bytes_field(1, bytes_field(1, k.encode()) + bytes_field(2, v)) for k, v in sorted(instances.items()))


def key_value_pair(key, value, codec="ringDesc", update_time_millis=0):
    return (bytes_field(1, key.encode()) + bytes_field(2, value) + bytes_field(3, codec.encode())
            + varint_field(5, update_time_millis))


def snappy_literal(data):
    """Snappy block format with literals only (valid input for any snappy decoder)."""
    out = bytearray(uvarint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += chunk
    return bytes(out)


def user_state(pairs):
    """Push/pull user state: [uint32 BE length][KeyValuePair] per key."""
    return b"".join(struct.pack(">I", len(p)) + p for p in pairs)


# --- msgpack (the subset memberlist's headers use) ---

def msgpack_map(fields):
    out = bytearray([0x80 | len(fields)])
    for k, v in fields.items():
        out += bytes([0xA0 | len(k)]) + k.encode()
        if isinstance(v, bool):
            out.append(0xC3 if v else 0xC2)
        elif v < 128:
            out.append(v)
        elif v < 1 << 16:
            out += b"\xcd" + struct.pack(">H", v)
        else:
            out += b"\xce" + struct.pack(">I", v)
    return bytes(out)


def msgpack_decode(buf, pos=0):
    """Decodes one value; returns (value, next position). Strings and binaries come back as bytes."""
    b = buf[pos]
    pos += 1
    if b < 0x80:
        return b, pos
    if b >= 0xE0:
        return b - 0x100, pos
    if 0x80 <= b <= 0x8F or b == 0xDE:
        n = b & 0x0F if b <= 0x8F else struct.unpack_from(">H", buf, pos)[0]
        pos += 0 if b <= 0x8F else 2
        out = {}
        for _ in range(n):
            k, pos = msgpack_decode(buf, pos)
            out[k.decode() if isinstance(k, bytes) else k], pos = msgpack_decode(buf, pos)
        return out, pos
    if 0x90 <= b <= 0x9F or b == 0xDC:
        n = b & 0x0F if b <= 0x9F else struct.unpack_from(">H", buf, pos)[0]
        pos += 0 if b <= 0x9F else 2
        out = []
        for _ in range(n):
            v, pos = msgpack_decode(buf, pos)
            out.append(v)
        return out, pos
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        return bytes(buf[pos:pos + n]), pos + n
    sized = {0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xC4: ">B", 0xC5: ">H", 0xC6: ">I"}
    if b in sized:
        fmt = sized[b]
        n = struct.unpack_from(fmt, buf, pos)[0]
        pos += struct.calcsize(fmt)
        return bytes(buf[pos:pos + n]), pos + n
    fixed = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
    if b in fixed:
        fmt = fixed[b]
        return struct.unpack_from(fmt, buf, pos)[0], pos + struct.calcsize(fmt)
    if b in (0xC0, 0xC2, 0xC3):
        return {0xC0: None, 0xC2: False, 0xC3: True}[b], pos
    raise ValueError(f"msgpack type 0x{b:02x} at {pos - 1}")


def lzw_decompress(data):
    """Go's compress/lzw reader, LSB order, literal width 8 (memberlist's compressPayload)."""
    out = bytearray()
    bits = nbits = pos = 0
    width, hi, last = 9, 257, None
    table = {}
    while True:
        while nbits < width:
            bits |= data[pos] << nbits
            pos += 1
            nbits += 8
        code = bits & ((1 << width) - 1)
        bits >>= width
        nbits -= width
        if code == 256:
            width, hi, last, table = 9, 257, None, {}
            continue
        if code == 257:
            return bytes(out)
        if code < 256:
            entry = bytes([code])
        elif code in table:
            entry = table[code]
        elif code == hi and last is not None:
            entry = last + last[:1]
        else:
            raise ValueError(f"lzw: invalid code {code}")
        out += entry
        if last is not None:
            table[hi] = last + entry[:1]
        last, hi = entry, hi + 1
        if hi >= 1 << width:
            if width == 12:
                last, hi = None, hi - 1
            else:
                width += 1


def decode_stream_message(buf):
    """(type, body) of a message read from a stream, unwrapping compression."""
    if buf[0] == COMPRESS_MSG:
        wrapper, _ = msgpack_decode(buf, 1)
        assert wrapper["Algo"] == 0, wrapper
        buf = lzw_decompress(wrapper["Buf"])
    return buf[0], buf[1:]


def decode_push_pull(body):
    """(header, nodes, user state) of a pushPull message body."""
    header, pos = msgpack_decode(body)
    nodes = []
    for _ in range(header["Nodes"]):
        node, pos = msgpack_decode(body, pos)
        nodes.append(node)
    state = body[pos:pos + header["UserStateLen"]]
    assert len(state) == header["UserStateLen"], (header, len(state))
    return header, nodes, state


def split_user_state(state):
    pairs, pos = [], 0
    while pos < len(state):
        (n,) = struct.unpack_from(">I", state, pos)
        pairs.append(state[pos + 4:pos + 4 + n])
        pos += 4 + n
    return pairs


# --- frames on the wire ---

def push_pull_frame(state, join=False):
    """Stream frame of a push/pull with no memberlist nodes and only user state (uncompressed)."""
    header = msgpack_map({"Nodes": 0, "UserStateLen": len(state), "Join": join})
    return bytes([STREAM, PUSH_PULL_MSG]) + header + state


def user_message_stream_frame(message):
    return bytes([STREAM, USER_MSG]) + msgpack_map({"UserMsgLen": len(message)}) + message


def user_message_packet_frame(message, sender="127.0.0.1:1"):
    payload = bytes([USER_MSG]) + message
    return bytes([PACKET, len(sender)]) + sender.encode() + payload + hashlib.md5(payload).digest()


def exchange(address, frame, half_close=True, timeout=5):
    """Sends one frame on a new connection and returns everything the peer sends back before closing.

    A packet ends at EOF, so it needs `half_close`; a stream message is delimited by its header.
    """
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(frame)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        reply = bytearray()
        while chunk := s.recv(65536):
            reply += chunk
        return bytes(reply)
