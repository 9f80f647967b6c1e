package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/pflag"
)

func artifactsCmd() *Command {
	return &Command{
		Name: "artifacts", Summary: "list every URL, hash and image the cluster fetches (for mirroring); `artifacts lock` records missing hashes",
		Usage: "--hosts FILE [--urls | --images | --unhashed]\n       kign artifacts lock --hosts FILE",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			hosts := fs.String("hosts", "", "inventory file (hosts.yaml)")
			urls := fs.Bool("urls", false, "print only the file URLs, one a line (feed to wget -x -i -)")
			images := fs.Bool("images", false, "print only the container image references, one a line")
			unhashed := fs.Bool("unhashed", false, "print only the URLs of downloads that have no hash yet (fill the mirror with them before `kign artifacts lock`)")
			return func(env Env, args []string) error {
				if len(args) == 1 && args[0] == "lock" {
					if *urls || *images || *unhashed {
						return UsageErrorf("artifacts lock takes only --hosts")
					}
					return lockArtifacts(env, *hosts, lockClient)
				}
				if err := noArgs(args); err != nil {
					return err
				}
				if n := btoi(*urls) + btoi(*images) + btoi(*unhashed); n > 1 {
					return UsageErrorf("--urls, --images and --unhashed exclude each other")
				}
				if *unhashed {
					inv, p, err := loadForLock(*hosts, env.Stderr)
					if err != nil {
						return err
					}
					todo, err := lockable(inv, p)
					if err != nil {
						return err
					}
					for _, u := range todo {
						if _, ok := inv.Lock.Lookup(u.lockURL); !ok {
							fmt.Fprintln(env.Stdout, u.fetchURL)
						}
					}
					return nil
				}
				_, p, err := loadPlan(*hosts, env.Stderr)
				if err != nil {
					return err
				}
				set := p.Artifacts
				switch {
				case *urls:
					for _, f := range set.Files {
						fmt.Fprintln(env.Stdout, f.URL)
					}
					return nil
				case *images:
					for _, im := range set.Images {
						fmt.Fprintln(env.Stdout, im.Ref)
					}
					return nil
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "# Kubernetes %s, %s\n", set.Kubernetes, set.Arch)
				fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tURL/IMAGE\tHASH")
				for _, f := range set.Files {
					hash := "NONE (unverified download, allowed by artifacts.allowUnverified)"
					switch {
					case f.SHA512 != "":
						hash = "sha512-" + f.SHA512
					case f.SHA256 != "":
						hash = "sha256-" + f.SHA256
					}
					fmt.Fprintf(tw, "file\t%s\t%s\t%s\t%s\n", f.Name, f.Version, f.URL, hash)
				}
				for _, im := range set.Images {
					fmt.Fprintf(tw, "image\t%s\t\t%s\t\n", im.Name, im.Ref)
				}
				return tw.Flush()
			}
		},
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
