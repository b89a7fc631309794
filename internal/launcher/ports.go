package launcher

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// portPicker hands out distinct free loopback ports. It holds every port it picked open until
// release, so two picks in one start never collide; another process can still take a port after
// release, which is why a start that hits "address already in use" is retried with fresh ports.
type portPicker struct {
	held []interface{ Close() error }
}

func (p *portPicker) release() {
	for _, l := range p.held {
		_ = l.Close()
	}
	p.held = nil
}

// tcp returns a free loopback TCP port.
func (p *portPicker) tcp() (int, error) { return p.listen("127.0.0.1:0") }

// tcpAll returns a port free on every interface: weaviate-server binds its gRPC and node-to-node
// data servers to ":port" whatever CLUSTER_BIND_ADDR says.
func (p *portPicker) tcpAll() (int, error) { return p.listen(":0") }

func (p *portPicker) listen(addr string) (int, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("pick a free loopback port: %w", err)
	}
	p.held = append(p.held, l)
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tcpUDP returns a port free for both TCP and UDP: memberlist gossips on both.
func (p *portPicker) tcpUDP() (int, error) {
	for range 50 {
		port, err := p.tcp()
		if err != nil {
			return 0, err
		}
		if u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			p.held = append(p.held, u)
			return port, nil
		}
	}
	return 0, errors.New("pick a free loopback port: no port free for both TCP and UDP after 50 tries")
}

// pair returns a port p with p+1 also free. Weaviate in CLUSTER_IN_LOCALHOST mode derives a peer's
// raft RPC port as its raft port + 1, so the two must be adjacent.
func (p *portPicker) pair() (int, error) {
	for range 50 {
		port, err := p.tcp()
		if err != nil {
			return 0, err
		}
		if port >= 65535 {
			continue
		}
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1))); err == nil {
			p.held = append(p.held, l)
			return port, nil
		}
	}
	return 0, errors.New("pick a free loopback port pair: none found after 50 tries")
}
