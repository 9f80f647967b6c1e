package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/kign-project/kign/internal/delivery"
	"github.com/kign-project/kign/internal/inventory"
)

func imageCmd() *Command {
	return &Command{
		Name: "image", Summary: "build boot images that carry a host's config",
		Sub: []*Command{imageISOCmd()},
	}
}

func imageISOCmd() *Command {
	return &Command{
		Name: "iso", Summary: "embed a host's config into a Fedora CoreOS live ISO",
		Usage: "--hosts FILE --host NAME --iso LIVE.iso -o NAME.iso [--out DIR] [--force]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			hosts := fs.String("hosts", "", "inventory file (hosts.yaml)")
			host := fs.String("host", "", "the host whose config to embed")
			iso := fs.String("iso", "", "Fedora CoreOS live ISO (fedora-coreos-VERSION-live-iso.ARCH.iso), not changed")
			dst := fs.StringP("output", "o", "", "ISO to write (mode 0600: it holds the host's private keys)")
			out := fs.String("out", "out", "folder kign gen wrote the configs to")
			force := fs.Bool("force", false, "replace a config already embedded in the ISO, and an existing -o file")
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				switch {
				case *host == "":
					return UsageErrorf("--host is required")
				case *iso == "":
					return UsageErrorf("--iso is required")
				case *dst == "":
					return UsageErrorf("-o is required")
				}
				_, p, err := loadPlan(*hosts, env.Stderr)
				if err != nil {
					return err
				}
				if _, ok := p.Host(*host); !ok {
					return fmt.Errorf("host %q is not in %s", *host, *hosts)
				}
				if !p.OS.ISOEmbed {
					return fmt.Errorf("%s's live ISO has no Ignition embed area: PXE-boot with %s or use a pointer config", p.OS.Title, delivery.IgnitionImgName(*host))
				}
				ign, err := os.ReadFile(filepath.Join(*out, *host+".ign"))
				if err != nil {
					return fmt.Errorf("host %q: %w (run kign gen -o %s first)", *host, err, *out)
				}
				h, _ := p.Host(*host)
				boot, err := delivery.BootConfig(p, h, ign)
				if err != nil {
					return err
				}
				if err := embedISOFile(*iso, *dst, boot, *force); err != nil {
					return err
				}
				what := "installs " + p.OS.Title + " to " + h.InstallDisk + " with"
				if p.Boot == inventory.BootLive {
					what = "boots live (from RAM) with"
				}
				fmt.Fprintf(env.Stdout, "[image] wrote %s: it %s the config of host %s, which holds the host's private keys (mode 0600)\n", *dst, what, *host)
				return nil
			}
		},
	}
}

// embedISOFile copies src to a temp file beside dst, embeds ign, syncs and
// renames it to dst (mode 0600). Nothing is left behind on failure and src
// is never modified.
func embedISOFile(src, dst string, ign []byte, force bool) error {
	if _, err := os.Stat(dst); err == nil && !force {
		return fmt.Errorf("%s exists; use --force to replace it", dst)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if err := delivery.EmbedISO(tmp, ign, force); err != nil {
		if errors.Is(err, delivery.ErrAreaInUse) {
			return fmt.Errorf("%s: %w; use --force to replace it", src, err)
		}
		return fmt.Errorf("%s: %w", src, err)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	done = true
	return nil
}
