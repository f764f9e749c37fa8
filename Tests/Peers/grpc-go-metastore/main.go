// grpc-go-metastore: a double of Pyroscope's metastore for the writer's AddBlock client, served by
// Debian's grpc-go, the server the real metastore runs (segment-object.md §10.4, §11). It answers
// /metastore.v1.IndexService/AddBlock with an empty AddBlockResponse, or as a follower that names
// the leader in the status details (google.rpc.Status with a raft_node.RaftNode{id, address}, as
// the metastore's raft layer does), or with UNKNOWN or INVALID_ARGUMENT, or slowly, or OK without
// keeping the block (amnesic: a metastore that lost what it acknowledged).
// /metastore.v1.IndexService/GetBlockMetadata answers with the listed blocks of the list's shard
// that AddBlock answered OK for (what loadgen's audit asks a metastore).
//
//	metastore -listen 127.0.0.1:0 -behaviour follower -leader-id leader-0 -leader-address 127.0.0.1:9099
//
// With -descriptors (a FileDescriptorSet of Pyroscope's metastore protos, e.g. from protoc
// --descriptor_set_out --include_imports) each request is first unmarshalled as
// metastore.v1.AddBlockRequest by the Go protobuf runtime, as the real metastore's grpc-go codec
// does: a request it refuses (invalid UTF-8 in a string field, say) ends INTERNAL with grpc-go's
// "grpc: error unmarshalling request" text and is not recorded.
//
// The first line on stdout is {"address": "ip:port"}; then one line per AddBlock call:
// {"block": hex of the request's BlockMeta bytes, "timeout_ms": the call's remaining deadline or -1},
// and one per accepted connection: {"connection": its remote address}.
//
// -max-connection-age (and -max-connection-age-grace) are dskit's
// -server.grpc.keepalive.max-connection-age(-grace): grpc-go sends GOAWAY to a connection that old
// and closes it after the grace. SIGTERM stops the server as dskit does at shutdown (GracefulStop:
// GOAWAY, then the calls under way finish) and exits once they have.
//
// Build (Debian packages golang-go, golang-google-grpc-dev): GOPATH=/usr/share/gocode GO111MODULE=off go build .
package main

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	anypb "github.com/golang/protobuf/ptypes/any"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

const (
	addBlockMethod         = "/metastore.v1.IndexService/AddBlock"
	getBlockMetadataMethod = "/metastore.v1.IndexService/GetBlockMetadata"
)

// passThrough replaces the "proto" codec: requests are recorded and answers written as raw bytes.
type passThrough struct{}

func (passThrough) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (passThrough) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (passThrough) Name() string { return "proto" }

type double struct {
	behaviour, leaderID, leaderAddress string
	delay                              time.Duration
	request                            protoreflect.MessageDescriptor // nil: requests are not unmarshalled
	mu                                 sync.Mutex
	out                                *json.Encoder
	blocks                             map[string][]byte // block id -> the BlockMeta bytes AddBlock answered OK for
}

func main() {
	var d double
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	flag.StringVar(&d.behaviour, "behaviour", "ok", "ok, follower, unknown, invalid, slow or amnesic")
	flag.DurationVar(&d.delay, "delay", 0, "how long a slow double takes to answer OK (or until the call ends)")
	flag.StringVar(&d.leaderID, "leader-id", "", "raft id of the leader a follower names")
	flag.StringVar(&d.leaderAddress, "leader-address", "", "address of the leader a follower names")
	descriptors := flag.String("descriptors", "", "FileDescriptorSet holding metastore.v1.AddBlockRequest")
	var age keepalive.ServerParameters
	flag.DurationVar(&age.MaxConnectionAge, "max-connection-age", 0, "GOAWAY to connections this old (0: never)")
	flag.DurationVar(&age.MaxConnectionAgeGrace, "max-connection-age-grace", 0, "then closed this much later (0: never)")
	flag.Parse()
	encoding.RegisterCodec(passThrough{})
	if *descriptors != "" {
		d.request = loadRequestDescriptor(*descriptors)
	}
	d.out = json.NewEncoder(os.Stdout)
	d.blocks = map[string][]byte{}

	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	d.out.Encode(map[string]string{"address": l.Addr().String()})
	options := []grpc.ServerOption{grpc.UnknownServiceHandler(d.handle)}
	if age.MaxConnectionAge > 0 {
		options = append(options, grpc.KeepaliveParams(age))
	}
	server := grpc.NewServer(options...)
	stopped := make(chan struct{})
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM)
	go func() {
		<-signals
		server.GracefulStop()
		close(stopped)
	}()
	if err := server.Serve(announcing{l, &d}); err != nil {
		log.Fatal(err)
	}
	<-stopped // Serve returns at once on GracefulStop; the calls under way finish first.
}

// announcing reports each connection it accepts on stdout.
type announcing struct {
	net.Listener
	d *double
}

func (a announcing) Accept() (net.Conn, error) {
	c, err := a.Listener.Accept()
	if err == nil {
		a.d.mu.Lock()
		a.d.out.Encode(map[string]string{"connection": c.RemoteAddr().String()})
		a.d.mu.Unlock()
	}
	return c, err
}

func (d *double) handle(_ interface{}, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	if method == getBlockMetadataMethod {
		return d.getBlockMetadata(stream)
	}
	if method != addBlockMethod {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	var request []byte
	if err := stream.RecvMsg(&request); err != nil {
		return err
	}
	if d.request != nil {
		if err := proto.Unmarshal(request, dynamicpb.NewMessage(d.request)); err != nil {
			return status.Errorf(codes.Internal, "grpc: error unmarshalling request: %v", err)
		}
	}
	block, err := blockMeta(request)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	remaining := int64(-1)
	if deadline, ok := stream.Context().Deadline(); ok {
		remaining = time.Until(deadline).Milliseconds()
	}
	d.mu.Lock()
	d.out.Encode(map[string]interface{}{"block": hex.EncodeToString(block), "timeout_ms": remaining})
	d.mu.Unlock()

	switch d.behaviour {
	case "follower":
		return status.ErrorProto(&spb.Status{
			Code:    int32(codes.Unavailable),
			Message: "node is not the leader",
			Details: []*anypb.Any{{TypeUrl: "type.googleapis.com/raft_node.RaftNode", Value: raftNode(d.leaderID, d.leaderAddress)}},
		})
	case "unknown":
		return status.Error(codes.Unknown, "raft apply timeout")
	case "invalid":
		return status.Error(codes.InvalidArgument, "invalid block id")
	case "slow":
		select {
		case <-time.After(d.delay):
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
	}
	if d.behaviour != "amnesic" {
		id, _ := metaField(block, 2)
		d.mu.Lock()
		d.blocks[string(id)] = block
		d.mu.Unlock()
	}
	empty := []byte{}
	return stream.SendMsg(&empty)
}

// getBlockMetadata answers GetBlockMetadataRequest{1: BlockList{tenant 1, shard 2, blocks 3}}
// with GetBlockMetadataResponse{1: repeated BlockMeta}: the blocks of the list that AddBlock
// answered OK for, in the list's shard (a segment's tenant is ""), in the list's order.
func (d *double) getBlockMetadata(stream grpc.ServerStream) error {
	var request []byte
	if err := stream.RecvMsg(&request); err != nil {
		return err
	}
	list, ok := metaField(request, 1)
	if !ok {
		return status.Error(codes.InvalidArgument, "GetBlockMetadataRequest without a block list")
	}
	var shard uint64
	var ids [][]byte
	for b := list; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return status.Error(codes.InvalidArgument, "malformed BlockList")
		}
		b = b[n:]
		switch {
		case num == 2 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return status.Error(codes.InvalidArgument, "malformed BlockList shard")
			}
			shard, b = v, b[m:]
		case num == 3 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return status.Error(codes.InvalidArgument, "malformed BlockList block")
			}
			ids, b = append(ids, v), b[m:]
		default:
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return status.Error(codes.InvalidArgument, "malformed BlockList")
			}
			b = b[m:]
		}
	}
	var response []byte
	d.mu.Lock()
	for _, id := range ids {
		block, found := d.blocks[string(id)]
		if !found {
			continue
		}
		if metaVarint(block, 4) != shard {
			continue
		}
		response = protowire.AppendTag(response, 1, protowire.BytesType)
		response = protowire.AppendBytes(response, block)
	}
	d.mu.Unlock()
	return stream.SendMsg(&response)
}

// lastField is the value of the last field num of wire type typ in a message, as
// protowire.ConsumeFieldValue delimits it (false when absent or the message is malformed).
func lastField(message []byte, num protowire.Number, typ protowire.Type) ([]byte, bool) {
	var value []byte
	found := false
	for b := message; len(b) > 0; {
		n, t, k := protowire.ConsumeTag(b)
		if k < 0 {
			return nil, false
		}
		b = b[k:]
		m := protowire.ConsumeFieldValue(n, t, b)
		if m < 0 {
			return nil, false
		}
		if n == num && t == typ {
			value, found = b[:m], true
		}
		b = b[m:]
	}
	return value, found
}

// metaField is the last length-delimited field num of a message.
func metaField(message []byte, num protowire.Number) ([]byte, bool) {
	raw, ok := lastField(message, num, protowire.BytesType)
	if !ok {
		return nil, false
	}
	value, _ := protowire.ConsumeBytes(raw)
	return value, true
}

// metaVarint is the last varint field num of a message (0 when absent).
func metaVarint(message []byte, num protowire.Number) uint64 {
	raw, _ := lastField(message, num, protowire.VarintType)
	value, _ := protowire.ConsumeVarint(raw)
	return value
}

// blockMeta is field 1 of AddBlockRequest, the BlockMeta bytes as the writer encoded them.
func blockMeta(request []byte) ([]byte, error) {
	num, typ, n := protowire.ConsumeTag(request)
	if n < 0 || num != 1 || typ != protowire.BytesType {
		return nil, fmt.Errorf("AddBlockRequest does not start with its block")
	}
	block, m := protowire.ConsumeBytes(request[n:])
	if m < 0 || n+m != len(request) {
		return nil, fmt.Errorf("AddBlockRequest holds more than its block")
	}
	return block, nil
}

// raftNode encodes raft_node.RaftNode{id = 1, address = 2}.
func raftNode(id, address string) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, id)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, address)
	return b
}

func loadRequestDescriptor(path string) protoreflect.MessageDescriptor {
	raw, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		log.Fatal(err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		log.Fatal(err)
	}
	found, err := files.FindDescriptorByName("metastore.v1.AddBlockRequest")
	if err != nil {
		log.Fatal(err)
	}
	return found.(protoreflect.MessageDescriptor)
}
