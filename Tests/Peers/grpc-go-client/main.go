// grpc-go-client: the transport side of a Pyroscope distributor's segment-writer client, built from
// Debian's grpc-go. One ClientConn per run with the options pkg/segmentwriter/client sets
// (ingest-and-ops.md §1.6): keepalive pings every 20 s with PermitWithoutStream, 100 MiB messages
// both ways, built-in retries off, the health-check service config, a 1 s minimum connect
// timeout; optional gzip or dskit's framed snappy. Pushes are made with a pass-through codec, so
// the request bytes are exactly the ones built here.
//
//	client -target 127.0.0.1:9095 -mode push -files a.pb.gz,b -concurrency 32 -repeat 2
//	client -target 127.0.0.1:9095 -mode health          # one Health/Check
//	client -target 127.0.0.1:9095 -mode watch           # Health/Watch until the stream ends
//
// Push mode prints one JSON line per call ({"file", "code", "message", "ms"}); the health modes
// print one line per status received. Exit status 0 unless the client itself could not run.
//
// Build (Debian packages golang-go, golang-google-grpc-dev, golang-github-golang-snappy-dev):
// GOPATH=/usr/share/gocode GO111MODULE=off go build .
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip"
	_ "google.golang.org/grpc/health"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

const (
	pushMethod    = "/segmentwriter.v1.SegmentWriterService/Push"
	healthService = "pyroscope.segment-writer"
	maxMessage    = 100 << 20
)

// passThrough sends and receives message bytes as they are: the request is built with protowire.
type passThrough struct{}

func (passThrough) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (passThrough) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (passThrough) Name() string { return "proto" }

// framedSnappy is dskit's grpcencoding/snappy: the snappy framed stream format, named "snappy".
type framedSnappy struct{}

func (framedSnappy) Name() string { return "snappy" }
func (framedSnappy) Compress(w io.Writer) (io.WriteCloser, error) {
	return snappy.NewBufferedWriter(w), nil
}
func (framedSnappy) Decompress(r io.Reader) (io.Reader, error) { return snappy.NewReader(r), nil }

type options struct {
	target, mode, files, compression, tenant, service string
	concurrency, repeat, shard, idBytes               int
	timeout, cancelAfter, keepaliveTime               time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.target, "target", "127.0.0.1:9095", "segment-writer gRPC address")
	flag.StringVar(&o.mode, "mode", "push", "push, health or watch")
	flag.StringVar(&o.files, "files", "", "comma-separated profile files (gzip or raw pprof), one Push each per repeat")
	flag.StringVar(&o.compression, "compression", "none", "none, gzip or snappy (grpc-encoding)")
	flag.StringVar(&o.tenant, "tenant", "anonymous", "tenant_id")
	flag.StringVar(&o.service, "service", "grpc-go-client", "service_name label")
	flag.IntVar(&o.concurrency, "concurrency", 1, "calls in flight on the one connection")
	flag.IntVar(&o.repeat, "repeat", 1, "pushes of each file")
	flag.IntVar(&o.shard, "shard", 1, "shard")
	flag.IntVar(&o.idBytes, "id-bytes", 16, "length of the random profile_id")
	flag.DurationVar(&o.timeout, "timeout", 0, "deadline of each call (0: none, as the distributor's synchronous path)")
	flag.DurationVar(&o.cancelAfter, "cancel-after", 0, "cancel each call after this long (0: never)")
	flag.DurationVar(&o.keepaliveTime, "keepalive", 20*time.Second, "client keepalive ping interval")
	flag.Parse()
	encoding.RegisterCompressor(framedSnappy{})

	conn, err := grpc.Dial(o.target,
		grpc.WithInsecure(),
		grpc.WithDisableRetry(),
		grpc.WithDefaultServiceConfig(`{"healthCheckConfig":{"serviceName":"`+healthService+`"}}`),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: time.Second, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: time.Second,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: o.keepaliveTime, Timeout: 10 * time.Second, PermitWithoutStream: true}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)),
	)
	if err != nil {
		log.Fatalf("dial %s: %v", o.target, err)
	}
	defer conn.Close()

	out := json.NewEncoder(os.Stdout)
	switch o.mode {
	case "push":
		push(conn, o, out)
	case "health":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: healthService})
		printHealth(out, r, err)
	case "watch":
		stream, err := grpc_health_v1.NewHealthClient(conn).Watch(context.Background(),
			&grpc_health_v1.HealthCheckRequest{Service: healthService})
		for err == nil {
			var r *grpc_health_v1.HealthCheckResponse
			if r, err = stream.Recv(); err == nil || err != io.EOF {
				printHealth(out, r, err)
			}
		}
	default:
		log.Fatalf("unknown mode %q", o.mode)
	}
}

func printHealth(out *json.Encoder, r *grpc_health_v1.HealthCheckResponse, err error) {
	if err != nil {
		s := status.Convert(err)
		out.Encode(map[string]string{"code": s.Code().String(), "message": s.Message()})
		return
	}
	out.Encode(map[string]string{"code": "OK", "status": r.GetStatus().String()})
}

type pushResult struct {
	File    string  `json:"file"`
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Ms      float64 `json:"ms"`
}

func push(conn *grpc.ClientConn, o options, out *json.Encoder) {
	var files []string
	if o.files != "" {
		files = strings.Split(o.files, ",")
	}
	profiles := make([][]byte, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		profiles[i] = b
	}
	type job struct{ file int }
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r := call(conn, o, profiles[j.file])
				r.File = files[j.file]
				mu.Lock()
				out.Encode(r)
				mu.Unlock()
			}
		}()
	}
	for k := 0; k < o.repeat; k++ {
		for i := range files {
			jobs <- job{i}
		}
	}
	close(jobs)
	wg.Wait()
}

func call(conn *grpc.ClientConn, o options, profile []byte) pushResult {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if o.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	defer cancel()
	if o.cancelAfter > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		timer := time.AfterFunc(o.cancelAfter, stop)
		defer timer.Stop()
	}
	req := pushRequest(o, profile)
	var resp []byte
	callOptions := []grpc.CallOption{grpc.ForceCodec(passThrough{})}
	if o.compression != "none" {
		callOptions = append(callOptions, grpc.UseCompressor(o.compression))
	}
	start := time.Now()
	err := conn.Invoke(ctx, pushMethod, &req, &resp, callOptions...)
	ms := float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		s := status.Convert(err)
		return pushResult{Code: s.Code().String(), Message: s.Message(), Ms: ms}
	}
	if len(resp) != 0 {
		return pushResult{Code: "BAD_RESPONSE", Message: fmt.Sprintf("%d response bytes, want an empty PushResponse", len(resp)), Ms: ms}
	}
	return pushResult{Code: "OK", Ms: ms}
}

// pushRequest encodes segmentwriter.v1.PushRequest: tenant_id 1, labels 2 (LabelPair name 1,
// value 2), profile 4, profile_id 5, shard 6; labels sorted by name as the distributor sends them.
func pushRequest(o options, profile []byte) []byte {
	id := make([]byte, o.idBytes)
	if _, err := rand.Read(id); err != nil {
		log.Fatal(err)
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, o.tenant)
	for _, l := range [][2]string{{"__name__", "process_cpu"}, {"service_name", o.service}} {
		var pair []byte
		pair = protowire.AppendTag(pair, 1, protowire.BytesType)
		pair = protowire.AppendString(pair, l[0])
		pair = protowire.AppendTag(pair, 2, protowire.BytesType)
		pair = protowire.AppendString(pair, l[1])
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, pair)
	}
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendBytes(b, profile)
	b = protowire.AppendTag(b, 5, protowire.BytesType)
	b = protowire.AppendBytes(b, id)
	b = protowire.AppendTag(b, 6, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(o.shard))
	return b
}
