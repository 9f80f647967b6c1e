// Package membership changes a running cluster's etcd membership from the
// operator's machine: `kign hosts remove` retires a master's member. It
// decides in one pure function (PlanRemove) and talks to etcd with etcd's
// own client (go.etcd.io/etcd/client/v3), as kign's etcd maintenance
// user, the one credential etcd lets change the membership (it allows
// that to the root role only).
package membership

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Member is one etcd member as MemberList reports it.
type Member struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
	IsLearner  bool
}

func (m Member) String() string {
	kind := "voting"
	if m.IsLearner {
		kind = "learner"
	}
	name := m.Name
	if name == "" {
		name = "(never started)"
	}
	return fmt.Sprintf("%s %x (%s, %s)", name, m.ID, strings.Join(m.PeerURLs, ","), kind)
}

// PlanRemove returns the member of name to remove from members, or why it
// must not be removed. healthy says which members answer. Removing a
// member is refused when the voting members left would not have quorum
// among the healthy ones: the removal itself needs quorum to commit, and
// the cluster after it must keep answering.
func PlanRemove(members []Member, healthy map[uint64]bool, name string) (Member, error) {
	i := slices.IndexFunc(members, func(m Member) bool { return m.Name == name })
	if i < 0 {
		var names []string
		for _, m := range members {
			names = append(names, m.String())
		}
		return Member{}, fmt.Errorf("etcd has no member %q; its members: %s", name, strings.Join(names, "; "))
	}
	target := members[i]
	voters, up := 0, 0
	for _, m := range members {
		if m.ID == target.ID || m.IsLearner {
			continue
		}
		voters++
		if healthy[m.ID] {
			up++
		}
	}
	if voters == 0 {
		return Member{}, fmt.Errorf("%s is etcd's last voting member: removing it would end the cluster", target)
	}
	if need := voters/2 + 1; up < need {
		return Member{}, fmt.Errorf("removing %s would leave %d voting members of which %d answer; quorum needs %d: bring the others back first", target, voters, up, need)
	}
	return target, nil
}

// Client is an etcd client for membership changes.
type Client struct {
	c       *clientv3.Client
	timeout time.Duration
}

// Dial connects to endpoints (client URLs) with the etcd CA caPEM and the
// client pair certPEM/keyPEM; every request is bounded by timeout.
func Dial(endpoints []string, caPEM, certPEM, keyPEM []byte, timeout time.Duration) (*Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("etcd CA: no certificate")
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("etcd client certificate: %w", err)
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: timeout,
		TLS:         &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
		// The client's own logging would print every retry to stderr;
		// kign reports what it decided instead.
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, err
	}
	return &Client{c: c, timeout: timeout}, nil
}

// Close closes the connections.
func (c *Client) Close() error { return c.c.Close() }

// Members lists the members and which of them answer a status request on
// their first client URL.
func (c *Client) Members(ctx context.Context) ([]Member, map[uint64]bool, error) {
	ctx1, cancel := context.WithTimeout(ctx, c.timeout)
	resp, err := c.c.MemberList(ctx1)
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("etcd member list: %w", err)
	}
	var out []Member
	leaders := map[uint64]uint64{} // member → the leader it follows
	for _, m := range resp.Members {
		mm := Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
		out = append(out, mm)
		if len(m.ClientURLs) == 0 {
			continue
		}
		ctx1, cancel := context.WithTimeout(ctx, c.timeout)
		st, err := c.c.Status(ctx1, m.ClientURLs[0])
		cancel()
		if err == nil && st.Header.MemberId == m.ID && st.Leader != 0 {
			leaders[m.ID] = st.Leader
		}
	}
	return out, Healthy(leaders), nil
}

// Healthy says which members count as up: those that follow the leader
// most members follow. Status is answered locally, so a member cut off
// from the leader still answers it; it does not count.
func Healthy(leaders map[uint64]uint64) map[uint64]bool {
	votes := map[uint64]int{}
	for _, l := range leaders {
		votes[l]++
	}
	var leader uint64
	for l, n := range votes {
		if n > votes[leader] || n == votes[leader] && l < leader {
			leader = l
		}
	}
	healthy := map[uint64]bool{}
	for m, l := range leaders {
		healthy[m] = l == leader
	}
	return healthy
}

// Remove removes the member id.
func (c *Client) Remove(ctx context.Context, id uint64) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	_, err := c.c.MemberRemove(ctx, id)
	return err
}
