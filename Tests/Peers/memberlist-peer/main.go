// memberlist-peer: a real hashicorp/memberlist node with dskit's TCP transport framing and the
// part of dskit's memberlist KV the segment-writer ring uses. Tests join our server to it and read
// the ring it learnt over HTTP:
//
//	GET /ring?key=collectors/segment-writer-ring  -> {"instances": {id: {...}}, "merges": n}
//	GET /members                                  -> [{"name": ..., "addr": "ip:port"}, ...]
//	GET /stats                                    -> transport counters (digest mismatches, ...)
//
// Build (Debian packages golang-go, golang-github-hashicorp-memberlist-dev,
// golang-github-golang-snappy-dev): GOPATH=/usr/share/gocode GO111MODULE=off go build .
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/golang/snappy"
	"github.com/hashicorp/memberlist"
)

type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

func main() {
	name := flag.String("name", "", "memberlist node name (default peer-<port>)")
	port := flag.Int("port", 0, "memberlist TCP port on 127.0.0.1 (0 = pick one)")
	httpPort := flag.Int("http-port", 0, "HTTP port on 127.0.0.1 (0 = pick one)")
	var join stringList
	flag.Var(&join, "join", "ip:port of a member to join (repeatable or comma separated)")
	pushPull := flag.Duration("pushpull-interval", 30*time.Second, "memberlist push/pull interval (dskit default 30s)")
	register := flag.String("register", "", "also publish an ACTIVE ring instance with this ID (self-tests)")
	registerKey := flag.String("register-key", "collectors/segment-writer-ring", "key of the ring -register publishes to")
	flag.Parse()
	log.SetFlags(log.Lmicroseconds)
	log.SetOutput(os.Stderr)

	transport, err := newTCPTransport("127.0.0.1", *port)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	kv := newRingKV()

	// The settings dskit's memberlist KV applies on top of DefaultLANConfig
	// (kv/memberlist/memberlist_client.go buildMemberlistConfig and flag defaults).
	cfg := memberlist.DefaultLANConfig()
	cfg.Name = *name
	if cfg.Name == "" {
		cfg.Name = fmt.Sprintf("peer-%d", transport.port())
	}
	cfg.Transport = transport
	cfg.Delegate = kv
	cfg.EnableCompression = true
	cfg.TCPTimeout = 2 * time.Second
	cfg.PushPullInterval = *pushPull
	cfg.UDPBufferSize = 10 * 1024 * 1024
	cfg.ProbeInterval = 5 * time.Second
	cfg.ProbeTimeout = 2 * time.Second
	cfg.DisableTcpPings = true
	cfg.AdvertiseAddr = ""
	cfg.LogOutput = io.Discard
	if os.Getenv("MEMBERLIST_PEER_DEBUG") != "" {
		cfg.LogOutput = os.Stderr
	}

	list, err := memberlist.Create(cfg)
	if err != nil {
		log.Fatalf("memberlist: %v", err)
	}
	kv.mu.Lock()
	kv.broadcasts = &memberlist.TransmitLimitedQueue{NumNodes: list.NumMembers, RetransmitMult: cfg.RetransmitMult}
	kv.mu.Unlock()

	httpLn, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *httpPort))
	if err != nil {
		log.Fatalf("http listen: %v", err)
	}
	go serveHTTP(httpLn, list, kv, transport)

	if *register != "" {
		go heartbeat(kv, *registerKey, *register, transport.port())
	}
	if len(join) > 0 {
		go joinWithRetries(list, join)
	}

	fmt.Fprintf(os.Stderr, "peer listening memberlist=127.0.0.1:%d http=%s\n", transport.port(), httpLn.Addr())

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	list.Leave(time.Second)
	list.Shutdown()
}

// joinWithRetries joins like dskit does at startup: retry until one member answered.
func joinWithRetries(list *memberlist.Memberlist, members []string) {
	for attempt := 1; attempt <= 30; attempt++ {
		n, err := list.Join(members)
		if n > 0 {
			log.Printf("joined %d of %v", n, members)
			return
		}
		log.Printf("join %v attempt %d failed: %v", members, attempt, err)
		time.Sleep(time.Second)
	}
}

// heartbeat publishes this peer's own ring instance every second, as a lifecycler would.
func heartbeat(kv *ringKV, key, id string, port int) {
	registered := time.Now().Unix()
	for {
		now := time.Now().Unix()
		desc := encodeRingDesc(map[string]instanceDesc{id: {
			Addr: fmt.Sprintf("127.0.0.1:%d", port), Timestamp: now, State: stateActive,
			Tokens: []uint32{1000, 2000, 3000, 4000}, RegisteredTimestamp: registered, ID: id,
		}})
		kv.mergePair(keyValuePair{Key: key, Codec: ringCodec, Value: snappy.Encode(nil, desc),
			UpdateTimeMillis: time.Now().UnixMilli()}, false)
		time.Sleep(time.Second)
	}
}

type memberJSON struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
}

func serveHTTP(ln net.Listener, list *memberlist.Memberlist, kv *ringKV, transport *tcpTransport) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ring", func(w http.ResponseWriter, r *http.Request) {
		instances, merges := kv.snapshot(r.URL.Query().Get("key"))
		writeJSON(w, map[string]interface{}{"instances": instances, "merges": merges})
	})
	mux.HandleFunc("/members", func(w http.ResponseWriter, r *http.Request) {
		members := []memberJSON{}
		for _, m := range list.Members() {
			members = append(members, memberJSON{Name: m.Name, Addr: net.JoinHostPort(m.Addr.String(), fmt.Sprint(m.Port))})
		}
		writeJSON(w, members)
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, transport.snapshot())
	})
	log.Fatal(http.Serve(ln, mux))
}

func writeJSON(w http.ResponseWriter, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
