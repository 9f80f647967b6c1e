// Command netcheck is the end-to-end test's pod program: it serves HTTP
// and, run through `kubectl exec`, fetches URLs and resolves names, so the
// test can prove the pod network, Services and cluster DNS.
//
//	netcheck serve :8080       answer every request with the pod's name
//	netcheck get URL...        fetch each URL, print "URL BODY"; fail on any error
//	netcheck lookup NAME...    resolve each name through /etc/resolv.conf
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: netcheck serve ADDR | get URL... | lookup NAME...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		host, _ := os.Hostname()
		err = http.ListenAndServe(os.Args[2], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s", host)
		}))
	case "get":
		c := &http.Client{Timeout: 5 * time.Second}
		for _, u := range os.Args[2:] {
			var resp *http.Response
			if resp, err = c.Get(u); err != nil {
				break
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("GET %s: %s", u, resp.Status)
				break
			}
			fmt.Printf("%s %s\n", u, strings.TrimSpace(string(body)))
		}
	case "lookup":
		r := &net.Resolver{PreferGo: true}
		for _, n := range os.Args[2:] {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			addrs, lerr := r.LookupHost(ctx, n)
			cancel()
			if lerr != nil {
				err = lerr
				break
			}
			fmt.Printf("%s %s\n", n, strings.Join(addrs, ","))
		}
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netcheck:", err)
		os.Exit(1)
	}
}
