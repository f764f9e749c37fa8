package main

// The memberlist.Delegate: dskit's memberlist KV reduced to what the ring needs. Values of codec
// "ringDesc" are snappy-block-compressed ring.Desc protobufs; they are merged per instance with
// the ring's rule (ring/model.go Merge) and what changed is gossiped on, as dskit does.

import (
	"encoding/binary"
	"fmt"
	"log"
	"sort"
	"strings"
	"sync"

	"github.com/golang/snappy"
	"github.com/hashicorp/memberlist"
)

const ringCodec = "ringDesc"

type keyState struct {
	instances        map[string]instanceDesc
	deleted          bool
	updateTimeMillis int64
	version          uint64
	merges           int // MergeRemoteState/NotifyMsg calls that carried this key
}

type ringKV struct {
	mu         sync.Mutex
	keys       map[string]*keyState
	broadcasts *memberlist.TransmitLimitedQueue
}

func newRingKV() *ringKV {
	return &ringKV{keys: map[string]*keyState{}}
}

func (kv *ringKV) NodeMeta(int) []byte { return nil }

// NotifyMsg receives one gossiped user message: a single KeyValuePair protobuf.
func (kv *ringKV) NotifyMsg(msg []byte) {
	pair, err := decodeKeyValuePair(msg)
	if err != nil {
		log.Printf("user message (%d bytes): bad KeyValuePair: %v", len(msg), err)
		return
	}
	log.Printf("user message (%d bytes): %s", len(msg), kv.mergePair(pair, true))
}

// MergeRemoteState receives the user state of a push/pull: [uint32 BE length][KeyValuePair]...
func (kv *ringKV) MergeRemoteState(buf []byte, join bool) {
	var parts []string
	rest := buf
	for len(rest) > 0 {
		if len(rest) < 4 {
			parts = append(parts, fmt.Sprintf("ERROR %d trailing bytes", len(rest)))
			break
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			parts = append(parts, fmt.Sprintf("ERROR pair of %d bytes with %d left", n, len(rest)))
			break
		}
		pair, err := decodeKeyValuePair(rest[:n])
		rest = rest[n:]
		if err != nil {
			parts = append(parts, fmt.Sprintf("ERROR bad KeyValuePair: %v", err))
			break
		}
		parts = append(parts, kv.mergePair(pair, true))
	}
	log.Printf("push/pull state (join=%v, %d bytes): [%s]", join, len(buf), strings.Join(parts, "; "))
}

// mergePair merges one pair (received, or published locally when remote is false) and queues
// what changed for gossip; returns a log summary.
func (kv *ringKV) mergePair(pair keyValuePair, remote bool) string {
	if pair.Key == "" {
		return "ERROR empty key"
	}
	if pair.Codec != ringCodec {
		return fmt.Sprintf("key=%s codec=%q ignored (unknown codec)", pair.Key, pair.Codec)
	}
	raw, err := snappy.Decode(nil, pair.Value)
	if err != nil {
		return fmt.Sprintf("key=%s ERROR value is not snappy block format: %v", pair.Key, err)
	}
	incoming, err := decodeRingDesc(raw)
	if err != nil {
		return fmt.Sprintf("key=%s ERROR bad ring.Desc: %v", pair.Key, err)
	}

	kv.mu.Lock()
	state := kv.keys[pair.Key]
	if state == nil {
		state = &keyState{instances: map[string]instanceDesc{}}
		kv.keys[pair.Key] = state
	}
	if remote {
		state.merges++
	}
	changed := mergeInstances(state.instances, incoming)
	if pair.UpdateTimeMillis > state.updateTimeMillis {
		state.updateTimeMillis = pair.UpdateTimeMillis
		state.deleted = pair.Deleted
	}
	if len(changed) > 0 {
		state.version++
		kv.queueChange(pair.Key, state, changed)
	}
	kv.mu.Unlock()

	return fmt.Sprintf("key=%s deleted=%v update_time_millis=%d instances={%s} changed=%v",
		pair.Key, pair.Deleted, pair.UpdateTimeMillis, describeInstances(incoming), changed)
}

// mergeInstances applies ring.Desc's merge rule: an incoming instance replaces the stored one iff
// its timestamp is newer, or it is LEFT with an equal timestamp (and the stored one is not LEFT).
// LEFT instances carry no tokens. Tokens are otherwise kept as received (dskit sorts and dedups
// them), so a test sees exactly what was sent.
func mergeInstances(stored, incoming map[string]instanceDesc) []string {
	var changed []string
	for id, in := range incoming {
		if in.State == stateLeft {
			in.Tokens = []uint32{}
		}
		cur, known := stored[id]
		if !known || in.Timestamp > cur.Timestamp ||
			(in.Timestamp == cur.Timestamp && cur.State != stateLeft && in.State == stateLeft) {
			stored[id] = in
			changed = append(changed, id)
		}
	}
	sort.Strings(changed)
	return changed
}

// queueChange gossips the changed instances on (dskit rebroadcasts the merge's change, never the
// original message). Caller holds kv.mu.
func (kv *ringKV) queueChange(key string, state *keyState, changed []string) {
	if kv.broadcasts == nil {
		return
	}
	sub := map[string]instanceDesc{}
	for _, id := range changed {
		sub[id] = state.instances[id]
	}
	msg := encodeKeyValuePair(keyValuePair{
		Key:              key,
		Value:            snappy.Encode(nil, encodeRingDesc(sub)),
		Codec:            ringCodec,
		Deleted:          state.deleted,
		UpdateTimeMillis: state.updateTimeMillis,
	})
	kv.broadcasts.QueueBroadcast(&ringBroadcast{key: key, instances: changed, version: state.version, msg: msg})
}

func (kv *ringKV) GetBroadcasts(overhead, limit int) [][]byte {
	if kv.broadcasts == nil {
		return nil
	}
	return kv.broadcasts.GetBroadcasts(overhead, limit)
}

// LocalState answers the pull half of a push/pull with every key, in the same framing.
func (kv *ringKV) LocalState(join bool) []byte {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	keys := make([]string, 0, len(kv.keys))
	for k := range kv.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []byte
	for _, k := range keys {
		s := kv.keys[k]
		pair := encodeKeyValuePair(keyValuePair{
			Key:              k,
			Value:            snappy.Encode(nil, encodeRingDesc(s.instances)),
			Codec:            ringCodec,
			Deleted:          s.deleted,
			UpdateTimeMillis: s.updateTimeMillis,
		})
		out = binary.BigEndian.AppendUint32(out, uint32(len(pair)))
		out = append(out, pair...)
	}
	log.Printf("local state for push/pull (join=%v): %d keys, %d bytes", join, len(keys), len(out))
	return out
}

// snapshot returns a copy of one key's instances and its merge count.
func (kv *ringKV) snapshot(key string) (map[string]instanceDesc, int) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	out := map[string]instanceDesc{}
	s := kv.keys[key]
	if s == nil {
		return out, 0
	}
	for id, inst := range s.instances {
		inst.Tokens = append([]uint32{}, inst.Tokens...)
		out[id] = inst
	}
	return out, s.merges
}

func describeInstances(instances map[string]instanceDesc) string {
	ids := make([]string, 0, len(instances))
	for id := range instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		in := instances[id]
		parts = append(parts, fmt.Sprintf("%s: addr=%s state=%d ts=%d registered=%d tokens=%v",
			id, in.Addr, in.State, in.Timestamp, in.RegisteredTimestamp, in.Tokens))
	}
	return strings.Join(parts, ", ")
}

// ringBroadcast is one queued change; a newer change of the same key covering the same instances
// replaces it in the queue.
type ringBroadcast struct {
	key       string
	instances []string
	version   uint64
	msg       []byte
}

func (b *ringBroadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(*ringBroadcast)
	if !ok || o.key != b.key || o.version >= b.version {
		return false
	}
	mine := map[string]bool{}
	for _, id := range b.instances {
		mine[id] = true
	}
	for _, id := range o.instances {
		if !mine[id] {
			return false
		}
	}
	return true
}

func (b *ringBroadcast) Message() []byte { return b.msg }
func (b *ringBroadcast) Finished()       {}
