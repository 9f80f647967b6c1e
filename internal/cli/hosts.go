package cli

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/spf13/pflag"

	"github.com/kign-project/kign/internal/membership"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/render"
)

func hostsCmd() *Command {
	return &Command{
		Name: "hosts", Summary: "change the running cluster's masters",
		Sub: []*Command{hostsRemoveCmd()},
	}
}

// hostsRemoveCmd retires a master: its etcd member leaves the cluster
// first, safely, then the machine can go (README "Day 2").
func hostsRemoveCmd() *Command {
	return &Command{
		Name: "remove", Summary: "remove a master's etcd member before the machine is retired",
		Usage: "NAME --hosts FILE [--pki DIR] [--timeout 10s]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			dir, hosts := pkiFlags(fs, "inventory file (hosts.yaml): the masters to reach etcd through")
			timeout := fs.Duration("timeout", 10*time.Second, "limit of each request to etcd")
			return func(env Env, args []string) error {
				if len(args) != 1 {
					return UsageErrorf("want one master name")
				}
				name := args[0]
				pkiDir, err := dir()
				if err != nil {
					return err
				}
				_, p, err := loadPlan(*hosts, env.Stderr)
				if err != nil {
					return err
				}
				bundle, err := pki.Load(pkiDir)
				if err != nil {
					return err
				}
				ca, ok := bundle.Get(pki.EtcdCA, "")
				if !ok {
					return fmt.Errorf("%s: no etcd CA", pkiDir)
				}
				client, ok := bundle.Get(pki.EtcdMaintenanceClient, "")
				if !ok {
					return fmt.Errorf("%s: no %s certificate: run kign gen once with this kign to issue it", pkiDir, pki.EtcdMaintenanceClient)
				}
				// Every other master of the inventory; the one leaving may
				// be gone already.
				var eps []string
				for _, h := range p.Hosts {
					if h.Name != name {
						eps = append(eps, "https://"+netip.AddrPortFrom(h.IP, render.EtcdClientPort).String())
					}
				}
				if len(eps) == 0 {
					return fmt.Errorf("%s: no master besides %s to reach etcd through", *hosts, name)
				}
				c, err := membership.Dial(eps, ca.CertPEM, client.CertPEM, client.KeyPEM, *timeout)
				if err != nil {
					return err
				}
				defer c.Close()
				ctx := context.Background()
				members, healthy, err := c.Members(ctx)
				if err != nil {
					return err
				}
				m, err := membership.PlanRemove(members, healthy, name)
				if err != nil {
					return fmt.Errorf("not removing %s: %w", name, err)
				}
				if err := c.Remove(ctx, m.ID); err != nil {
					return fmt.Errorf("etcd member remove %x: %w", m.ID, err)
				}
				fmt.Fprintf(env.Stdout, "[hosts] removed etcd member %s\n", m)
				fmt.Fprintf(env.Stdout, "[hosts] next: power %s off; delete it from %s; kign gen; then reprovision the other masters one at a time, as kign gen lists them\n", name, *hosts)
				return nil
			}
		},
	}
}
