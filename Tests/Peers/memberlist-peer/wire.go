package main

// Hand-written protobuf for the two messages the ring travels in (dskit kv/memberlist/kv.proto,
// ring/ring.proto): memberlist.KeyValuePair and ring.Desc / ring.InstanceDesc. Only the fields
// the segment-writer ring uses are kept; every other field is skipped on decode.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Ring states (ring.proto InstanceState).
const (
	stateActive  = 0
	stateLeaving = 1
	statePending = 2
	stateJoining = 3
	stateLeft    = 4
)

type keyValuePair struct {
	Key              string
	Value            []byte
	Codec            string
	Deleted          bool
	UpdateTimeMillis int64
}

type instanceDesc struct {
	Addr                string   `json:"addr"`
	Timestamp           int64    `json:"timestamp"`
	State               int32    `json:"state"`
	Tokens              []uint32 `json:"tokens"`
	Zone                string   `json:"zone"`
	RegisteredTimestamp int64    `json:"registered_timestamp"`
	ID                  string   `json:"id"`
}

type protoReader struct {
	buf []byte
	pos int
}

var errTruncated = errors.New("truncated protobuf")

func (r *protoReader) done() bool { return r.pos >= len(r.buf) }

func (r *protoReader) varint() (uint64, error) {
	v, n := binary.Uvarint(r.buf[r.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("bad varint at %d", r.pos)
	}
	r.pos += n
	return v, nil
}

func (r *protoReader) bytes() ([]byte, error) {
	n, err := r.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(r.buf)-r.pos) {
		return nil, errTruncated
	}
	b := r.buf[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b, nil
}

// tag returns the field number and wire type of the next field.
func (r *protoReader) tag() (int, int, error) {
	v, err := r.varint()
	if err != nil {
		return 0, 0, err
	}
	return int(v >> 3), int(v & 7), nil
}

func (r *protoReader) skip(wireType int) error {
	switch wireType {
	case 0:
		_, err := r.varint()
		return err
	case 1, 5:
		n := 8
		if wireType == 5 {
			n = 4
		}
		if len(r.buf)-r.pos < n {
			return errTruncated
		}
		r.pos += n
		return nil
	case 2:
		_, err := r.bytes()
		return err
	}
	return fmt.Errorf("unsupported wire type %d at %d", wireType, r.pos)
}

func decodeKeyValuePair(b []byte) (keyValuePair, error) {
	var kv keyValuePair
	r := protoReader{buf: b}
	for !r.done() {
		field, wt, err := r.tag()
		if err != nil {
			return kv, err
		}
		switch {
		case field == 1 && wt == 2:
			s, err := r.bytes()
			if err != nil {
				return kv, err
			}
			kv.Key = string(s)
		case field == 2 && wt == 2:
			v, err := r.bytes()
			if err != nil {
				return kv, err
			}
			kv.Value = append([]byte(nil), v...)
		case field == 3 && wt == 2:
			s, err := r.bytes()
			if err != nil {
				return kv, err
			}
			kv.Codec = string(s)
		case field == 4 && wt == 0:
			v, err := r.varint()
			if err != nil {
				return kv, err
			}
			kv.Deleted = v != 0
		case field == 5 && wt == 0:
			v, err := r.varint()
			if err != nil {
				return kv, err
			}
			kv.UpdateTimeMillis = int64(v)
		default:
			if err := r.skip(wt); err != nil {
				return kv, err
			}
		}
	}
	return kv, nil
}

// decodeRingDesc decodes an uncompressed ring.Desc: `map<string, InstanceDesc> ingesters = 1`.
func decodeRingDesc(b []byte) (map[string]instanceDesc, error) {
	out := map[string]instanceDesc{}
	r := protoReader{buf: b}
	for !r.done() {
		field, wt, err := r.tag()
		if err != nil {
			return nil, err
		}
		if field != 1 || wt != 2 {
			if err := r.skip(wt); err != nil {
				return nil, err
			}
			continue
		}
		entry, err := r.bytes()
		if err != nil {
			return nil, err
		}
		key, inst, err := decodeMapEntry(entry)
		if err != nil {
			return nil, fmt.Errorf("ingesters entry: %v", err)
		}
		out[key] = inst
	}
	return out, nil
}

func decodeMapEntry(b []byte) (string, instanceDesc, error) {
	var key string
	var inst instanceDesc
	r := protoReader{buf: b}
	for !r.done() {
		field, wt, err := r.tag()
		if err != nil {
			return "", inst, err
		}
		switch {
		case field == 1 && wt == 2:
			s, err := r.bytes()
			if err != nil {
				return "", inst, err
			}
			key = string(s)
		case field == 2 && wt == 2:
			v, err := r.bytes()
			if err != nil {
				return "", inst, err
			}
			if inst, err = decodeInstanceDesc(v); err != nil {
				return "", inst, err
			}
		default:
			if err := r.skip(wt); err != nil {
				return "", inst, err
			}
		}
	}
	return key, inst, nil
}

func decodeInstanceDesc(b []byte) (instanceDesc, error) {
	inst := instanceDesc{Tokens: []uint32{}}
	r := protoReader{buf: b}
	for !r.done() {
		field, wt, err := r.tag()
		if err != nil {
			return inst, err
		}
		switch {
		case (field == 1 || field == 7 || field == 9) && wt == 2:
			s, err := r.bytes()
			if err != nil {
				return inst, err
			}
			switch field {
			case 1:
				inst.Addr = string(s)
			case 7:
				inst.Zone = string(s)
			default:
				inst.ID = string(s)
			}
		case (field == 2 || field == 3 || field == 8) && wt == 0:
			v, err := r.varint()
			if err != nil {
				return inst, err
			}
			switch field {
			case 2:
				inst.Timestamp = int64(v)
			case 3:
				inst.State = int32(v)
			default:
				inst.RegisteredTimestamp = int64(v)
			}
		case field == 6 && wt == 2: // packed tokens
			packed, err := r.bytes()
			if err != nil {
				return inst, err
			}
			pr := protoReader{buf: packed}
			for !pr.done() {
				v, err := pr.varint()
				if err != nil {
					return inst, fmt.Errorf("packed tokens: %v", err)
				}
				inst.Tokens = append(inst.Tokens, uint32(v))
			}
		case field == 6 && wt == 0: // unpacked token
			v, err := r.varint()
			if err != nil {
				return inst, err
			}
			inst.Tokens = append(inst.Tokens, uint32(v))
		default:
			if err := r.skip(wt); err != nil {
				return inst, err
			}
		}
	}
	return inst, nil
}

func appendTag(b []byte, field, wireType int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wireType))
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = appendTag(b, field, 2)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendVarintField writes a proto3 scalar, omitted when zero (as gogo-protobuf does).
func appendVarintField(b []byte, field int, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, field, 0)
	return binary.AppendUvarint(b, v)
}

func appendStringField(b []byte, field int, s string) []byte {
	if s == "" {
		return b
	}
	return appendBytesField(b, field, []byte(s))
}

func encodeInstanceDesc(inst instanceDesc) []byte {
	var b []byte
	b = appendStringField(b, 1, inst.Addr)
	b = appendVarintField(b, 2, uint64(inst.Timestamp))
	b = appendVarintField(b, 3, uint64(inst.State))
	if len(inst.Tokens) > 0 {
		var packed []byte
		for _, t := range inst.Tokens {
			packed = binary.AppendUvarint(packed, uint64(t))
		}
		b = appendBytesField(b, 6, packed)
	}
	b = appendStringField(b, 7, inst.Zone)
	b = appendVarintField(b, 8, uint64(inst.RegisteredTimestamp))
	b = appendStringField(b, 9, inst.ID)
	return b
}

// encodeRingDesc writes ring.Desc with its map entries in key order.
func encodeRingDesc(instances map[string]instanceDesc) []byte {
	keys := make([]string, 0, len(instances))
	for k := range instances {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for _, k := range keys {
		var entry []byte
		entry = appendBytesField(entry, 1, []byte(k))
		entry = appendBytesField(entry, 2, encodeInstanceDesc(instances[k]))
		b = appendBytesField(b, 1, entry)
	}
	return b
}

func encodeKeyValuePair(kv keyValuePair) []byte {
	var b []byte
	b = appendStringField(b, 1, kv.Key)
	if len(kv.Value) > 0 {
		b = appendBytesField(b, 2, kv.Value)
	}
	b = appendStringField(b, 3, kv.Codec)
	if kv.Deleted {
		b = appendVarintField(b, 4, 1)
	}
	b = appendVarintField(b, 5, uint64(kv.UpdateTimeMillis))
	return b
}
