//go:build linux

package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probe runs the container's probes as the kubelet's prober does: the
// startup probe first (liveness and readiness wait for it), then liveness
// and readiness side by side. A startup or liveness probe that fails
// failureThreshold times in a row sends a reason on kill.
func (r *containerRun) probe(ctx context.Context, kill chan<- string) {
	c := r.c
	if c.StartupProbe != nil {
		if !r.loopProbe(ctx, "startup", c.StartupProbe, func(ok bool, msg string) bool {
			if ok {
				r.update(func(s *Status) { s.Started, s.ProbeError = true, "" })
				return true
			}
			return false
		}, kill) {
			return
		}
		if c.ReadinessProbe == nil {
			r.update(func(s *Status) { s.Ready = true })
		}
	}
	if c.ReadinessProbe != nil {
		go r.loopProbe(ctx, "readiness", c.ReadinessProbe, func(ok bool, msg string) bool {
			r.update(func(s *Status) { s.Ready = ok })
			return false
		}, nil)
	}
	if c.LivenessProbe != nil {
		r.loopProbe(ctx, "liveness", c.LivenessProbe, func(ok bool, msg string) bool {
			r.update(func(s *Status) { s.Live = ok })
			return false
		}, kill)
	}
}

// loopProbe probes every period. onResult gets each result after the
// success/failure thresholds are applied and returns true to end the loop
// (startup done). With kill set, reaching failureThreshold sends a reason
// and ends the loop; it returns false then, or when ctx ends.
func (r *containerRun) loopProbe(ctx context.Context, kind string, p *corev1.Probe, onResult func(bool, string) bool, kill chan<- string) bool {
	period := secondsOr(p.PeriodSeconds, 10)
	timeout := secondsOr(p.TimeoutSeconds, 1)
	failures := int(p.FailureThreshold)
	if failures <= 0 {
		failures = 3
	}
	successes := int(p.SuccessThreshold)
	if successes <= 0 {
		successes = 1
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(secondsOr(p.InitialDelaySeconds, 0)):
	}
	var okRun, failRun int
	for {
		err := doProbe(ctx, p, timeout)
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			okRun, failRun = okRun+1, 0
			if okRun >= successes && onResult(true, "") {
				return true
			}
		} else {
			okRun, failRun = 0, failRun+1
			msg := fmt.Sprintf("%s probe failed: %v", kind, err)
			r.update(func(s *Status) { s.ProbeError = msg })
			if failRun >= failures {
				onResult(false, msg)
				if kill != nil {
					select {
					case kill <- fmt.Sprintf("%s probe failed %d times (%v)", kind, failRun, err):
					default:
					}
					return false
				}
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(period):
		}
	}
}

func secondsOr(v int32, def int) time.Duration {
	if v <= 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(v) * time.Second
}

// probeClient is the kubelet's HTTPS probe behaviour: no certificate
// verification, no redirects to follow here.
var probeClient = &http.Client{
	Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func doProbe(ctx context.Context, p *corev1.Probe, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.HTTPGet != nil:
		g := p.HTTPGet
		port, err := portOf(g.Port)
		if err != nil {
			return err
		}
		host := g.Host
		if host == "" {
			host = "127.0.0.1"
		}
		scheme := "http"
		if g.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: g.Path}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return err
		}
		for _, h := range g.HTTPHeaders {
			req.Header.Add(h.Name, h.Value)
		}
		resp, err := probeClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("GET %s: HTTP %d", u.String(), resp.StatusCode)
		}
		return nil
	case p.TCPSocket != nil:
		port, err := portOf(p.TCPSocket.Port)
		if err != nil {
			return err
		}
		host := p.TCPSocket.Host
		if host == "" {
			host = "127.0.0.1"
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return fmt.Errorf("unsupported probe")
}

func portOf(p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int && p.IntVal > 0 {
		return int(p.IntVal), nil
	}
	return 0, fmt.Errorf("probe port %q: named ports are not supported by the stand-in", p.String())
}
