package butane

import (
	"fmt"

	bconfig "github.com/coreos/butane/config"
	"github.com/coreos/butane/config/common"
	"github.com/coreos/ignition/v2/config/v3_4"
	"github.com/coreos/ignition/v2/config/v3_5"
)

// Variant pairs a Butane variant and version with the Ignition spec it
// produces.
type Variant struct {
	OS            string // kign's name: fcos | flatcar
	ButaneVariant string
	ButaneVersion string
	IgnitionSpec  string
}

// Variants kign generates for. Butane fcos 1.6.0 → Ignition 3.5.0 (what
// current Fedora CoreOS reads); flatcar 1.1.0 → Ignition 3.4.0.
var Variants = []Variant{
	{OS: "fcos", ButaneVariant: "fcos", ButaneVersion: "1.6.0", IgnitionSpec: "3.5.0"},
	{OS: "flatcar", ButaneVariant: "flatcar", ButaneVersion: "1.1.0", IgnitionSpec: "3.4.0"},
}

// VariantFor returns the variant of an OS name.
func VariantFor(os string) (Variant, error) {
	for _, v := range Variants {
		if v.OS == os {
			return v, nil
		}
	}
	return Variant{}, fmt.Errorf("unknown OS %q (want fcos or flatcar)", os)
}

// Translate turns a Butane document into an Ignition config with the
// butane library, strictly: any warning is an error, as `butane --strict`.
// The result is then parsed by Ignition's own parser for the variant's spec,
// and any finding there is an error too. name labels errors.
func Translate(name string, doc []byte) ([]byte, error) {
	ign, rpt, err := bconfig.TranslateBytes(doc, common.TranslateBytesOptions{TranslateOptions: common.TranslateOptions{NoResourceAutoCompression: true}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", name, err, rpt.String())
	}
	if len(rpt.Entries) > 0 {
		return nil, fmt.Errorf("%s: butane (strict):\n%s", name, rpt.String())
	}
	if err := Validate(ign); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ign, nil
}

// Validate parses an Ignition config with Ignition's parser for its spec
// version (3.5.0 or 3.4.0) and fails on any error or warning.
func Validate(ign []byte) error {
	_, rpt, err := v3_5.Parse(ign)
	if err != nil {
		if _, rpt4, err4 := v3_4.Parse(ign); err4 == nil {
			rpt, err = rpt4, nil
		}
	}
	if err != nil {
		return fmt.Errorf("ignition: %v\n%s", err, rpt.String())
	}
	if len(rpt.Entries) > 0 {
		return fmt.Errorf("ignition:\n%s", rpt.String())
	}
	return nil
}
