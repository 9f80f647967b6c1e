package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/pflag"
)

func artifactsCmd() *Command {
	return &Command{
		Name: "artifacts", Summary: "list every URL, hash and image the cluster fetches (for mirroring)",
		Usage: "--hosts FILE [--urls | --images]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			hosts := fs.String("hosts", "", "inventory file (hosts.yaml)")
			urls := fs.Bool("urls", false, "print only the file URLs, one a line (feed to wget -x -i -)")
			images := fs.Bool("images", false, "print only the container image references, one a line")
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *urls && *images {
					return UsageErrorf("--urls and --images exclude each other")
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
