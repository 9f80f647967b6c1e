package inventory

import "net/netip"

// NthAddr is nthAddr without its second result, for defaults_test.go.
func NthAddr(p netip.Prefix, n int) netip.Addr {
	a, _ := nthAddr(p, n)
	return a
}
