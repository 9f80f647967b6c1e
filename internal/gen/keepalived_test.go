package gen

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/kign-project/kign/internal/render"
	"github.com/kign-project/kign/internal/testtool"
)

// TestKeepalivedConfigs runs `keepalived -t` on the keepalived.conf of every
// host of both examples, exactly as generated, except for two things this
// machine lacks: the host's interface (replaced by one this machine has) and
// the check script's path (a copy of the generated script in a temp dir).
func TestKeepalivedConfigs(t *testing.T) {
	bin := testtool.Need(t, "keepalived", "keepalived")
	iface := testtool.Interface(t)
	for _, path := range examples {
		_, _, res := generate(t, path)
		for _, hc := range res.Hosts {
			ph := parseIgnition(t, hc.Ignition)
			dir := t.TempDir()
			script := filepath.Join(dir, "check_apiserver.sh")
			if err := os.WriteFile(script, ph.Files[render.KeepalivedCheckScript].Data, 0o755); err != nil {
				t.Fatal(err)
			}
			conf := string(ph.Files[render.KeepalivedConfigFile].Data)
			conf = regexp.MustCompile(`\b`+regexp.QuoteMeta(hc.Host.Interface)+`\b`).ReplaceAllString(conf, iface)
			conf = regexp.MustCompile(regexp.QuoteMeta(render.KeepalivedCheckScript)).ReplaceAllString(conf, script)
			cf := filepath.Join(dir, "keepalived.conf")
			if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, "-t", "-f", cf).CombinedOutput(); err != nil {
				t.Errorf("%s: keepalived -t: %v\n%s", hc.Host.Name, err, out)
			}
		}
	}
}
