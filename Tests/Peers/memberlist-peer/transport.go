package main

// A memberlist.Transport speaking dskit's TCP framing (kv/memberlist/tcp_transport.go): every
// operation is a new TCP connection whose first byte says what it carries.
//   0x01 "packet": 1 byte address length, the sender's advertised "ip:port", the payload,
//        md5(payload) (16 bytes), then the sender closes the connection.
//   0x02 "stream": the rest of the connection is a memberlist stream.

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

const (
	framePacket = 1
	frameStream = 2

	packetDialTimeout  = 2 * time.Second // dskit -memberlist.packet-dial-timeout
	packetWriteTimeout = 5 * time.Second // dskit -memberlist.packet-write-timeout
)

type transportStats struct {
	PacketsReceived  int64 `json:"packets_received"`
	StreamsReceived  int64 `json:"streams_received"`
	DigestMismatches int64 `json:"digest_mismatches"`
	BadFrames        int64 `json:"bad_frames"`
	PacketsSent      int64 `json:"packets_sent"`
	PacketSendErrors int64 `json:"packet_send_errors"`
	StreamsOpened    int64 `json:"streams_opened"`
}

type tcpTransport struct {
	listener   net.Listener
	advertised string
	packetCh   chan *memberlist.Packet
	streamCh   chan net.Conn
	closing    int32
	wg         sync.WaitGroup
	stats      transportStats
}

func newTCPTransport(bindAddr string, port int) (*tcpTransport, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(bindAddr, fmt.Sprint(port)))
	if err != nil {
		return nil, err
	}
	t := &tcpTransport{
		listener:   ln,
		advertised: ln.Addr().String(),
		packetCh:   make(chan *memberlist.Packet),
		streamCh:   make(chan net.Conn),
	}
	t.wg.Add(1)
	go t.accept()
	return t, nil
}

func (t *tcpTransport) port() int { return t.listener.Addr().(*net.TCPAddr).Port }

func (t *tcpTransport) accept() {
	defer t.wg.Done()
	for {
		conn, err := t.listener.Accept()
		if err != nil {
			if atomic.LoadInt32(&t.closing) == 1 {
				return
			}
			log.Printf("accept: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go t.handle(conn)
	}
}

func (t *tcpTransport) handle(conn net.Conn) {
	var kind [1]byte
	if _, err := io.ReadFull(conn, kind[:]); err != nil {
		log.Printf("transport: no frame type from %s: %v", conn.RemoteAddr(), err)
		conn.Close()
		return
	}
	switch kind[0] {
	case frameStream:
		atomic.AddInt64(&t.stats.StreamsReceived, 1)
		t.streamCh <- conn // memberlist closes it
	case framePacket:
		defer conn.Close()
		from, payload, err := readPacket(conn)
		if _, mismatch := err.(errDigest); mismatch {
			atomic.AddInt64(&t.stats.DigestMismatches, 1)
			log.Printf("transport: %v (delivered anyway, as dskit does)", err)
		} else if err != nil {
			atomic.AddInt64(&t.stats.BadFrames, 1)
			log.Printf("transport: bad packet from %s: %v", conn.RemoteAddr(), err)
			return
		}
		atomic.AddInt64(&t.stats.PacketsReceived, 1)
		t.packetCh <- &memberlist.Packet{Buf: payload, From: tcpAddrString(from), Timestamp: time.Now()}
	default:
		atomic.AddInt64(&t.stats.BadFrames, 1)
		log.Printf("transport: unknown frame type %d from %s", kind[0], conn.RemoteAddr())
		conn.Close()
	}
}

// readPacket reads what follows the 0x01 byte. A digest mismatch returns the payload with an
// errDigest: dskit logs it and still delivers, and the peer counts it so tests can insist on zero.
func readPacket(conn net.Conn) (string, []byte, error) {
	var n [1]byte
	if _, err := io.ReadFull(conn, n[:]); err != nil {
		return "", nil, fmt.Errorf("address length: %v", err)
	}
	addr := make([]byte, n[0])
	if _, err := io.ReadFull(conn, addr); err != nil {
		return "", nil, fmt.Errorf("address: %v", err)
	}
	rest, err := io.ReadAll(conn)
	if err != nil {
		return "", nil, fmt.Errorf("payload: %v", err)
	}
	if len(rest) < md5.Size {
		return "", nil, fmt.Errorf("only %d bytes after the address, need at least the 16-byte md5", len(rest))
	}
	payload, digest := rest[:len(rest)-md5.Size], rest[len(rest)-md5.Size:]
	if sum := md5.Sum(payload); !bytes.Equal(sum[:], digest) {
		return string(addr), payload, errDigest{string(addr), sum[:], digest}
	}
	return string(addr), payload, nil
}

type errDigest struct {
	from             string
	expected, actual []byte
}

func (e errDigest) Error() string {
	return fmt.Sprintf("md5 mismatch from %s: expected %x, got %x", e.from, e.expected, e.actual)
}

type tcpAddrString string

func (a tcpAddrString) Network() string { return "tcp" }
func (a tcpAddrString) String() string  { return string(a) }

func (t *tcpTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" {
		t.advertised = net.JoinHostPort(ip, fmt.Sprint(port))
		return net.ParseIP(ip), port, nil
	}
	a := t.listener.Addr().(*net.TCPAddr)
	return a.IP, a.Port, nil
}

func (t *tcpTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	atomic.AddInt64(&t.stats.PacketsSent, 1)
	if err := t.writePacket(b, addr); err != nil {
		// As in dskit: memberlist treats packets as UDP, so a failed send is only logged.
		atomic.AddInt64(&t.stats.PacketSendErrors, 1)
		log.Printf("transport: packet to %s failed: %v", addr, err)
	}
	return time.Now(), nil
}

func (t *tcpTransport) writePacket(b []byte, addr string) error {
	if len(t.advertised) > 255 {
		return fmt.Errorf("advertised address %q too long", t.advertised)
	}
	conn, err := net.DialTimeout("tcp", addr, packetDialTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	digest := md5.Sum(b)
	frame := make([]byte, 0, 2+len(t.advertised)+len(b)+md5.Size)
	frame = append(frame, framePacket, byte(len(t.advertised)))
	frame = append(frame, t.advertised...)
	frame = append(frame, b...)
	frame = append(frame, digest[:]...)
	conn.SetDeadline(time.Now().Add(packetWriteTimeout))
	_, err = conn.Write(frame)
	return err
}

func (t *tcpTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *tcpTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write([]byte{frameStream}); err != nil {
		conn.Close()
		return nil, err
	}
	atomic.AddInt64(&t.stats.StreamsOpened, 1)
	return conn, nil
}

func (t *tcpTransport) StreamCh() <-chan net.Conn { return t.streamCh }

func (t *tcpTransport) Shutdown() error {
	atomic.StoreInt32(&t.closing, 1)
	err := t.listener.Close()
	t.wg.Wait()
	return err
}

func (t *tcpTransport) snapshot() transportStats {
	return transportStats{
		PacketsReceived:  atomic.LoadInt64(&t.stats.PacketsReceived),
		StreamsReceived:  atomic.LoadInt64(&t.stats.StreamsReceived),
		DigestMismatches: atomic.LoadInt64(&t.stats.DigestMismatches),
		BadFrames:        atomic.LoadInt64(&t.stats.BadFrames),
		PacketsSent:      atomic.LoadInt64(&t.stats.PacketsSent),
		PacketSendErrors: atomic.LoadInt64(&t.stats.PacketSendErrors),
		StreamsOpened:    atomic.LoadInt64(&t.stats.StreamsOpened),
	}
}
