package butane

import (
	"errors"
	"fmt"

	json "github.com/clarketm/json"

	bconfig "github.com/coreos/butane/config"
	"github.com/coreos/butane/config/common"
	fcos1_6 "github.com/coreos/butane/config/fcos/v1_6"
	flatcar1_1 "github.com/coreos/butane/config/flatcar/v1_1"
	"github.com/coreos/vcontext/report"
	"github.com/coreos/vcontext/validate"
	"gopkg.in/yaml.v3"

	"github.com/kign-project/kign/internal/osvariant"
)

// translateOptions: file contents are stored as plain or base64 data URLs,
// never gzipped. The configs stay readable (and diffable in review), and
// compression was a third of the translation time; certificates and keys,
// most of a config, hardly compress anyway.
var translateOptions = common.TranslateOptions{NoResourceAutoCompression: true}

// Translate turns a Butane document into an Ignition config with the
// butane library, strictly: any warning is an error, as `butane --strict`.
// The result is then parsed by Ignition's own parser for the variant's spec,
// and any finding there is an error too. name labels errors.
func Translate(name string, doc []byte) ([]byte, error) {
	ign, rpt, err := bconfig.TranslateBytes(doc, common.TranslateBytesOptions{TranslateOptions: translateOptions})
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
// version (the spec of one of kign's OS rows) and fails on any error or
// warning.
func Validate(ign []byte) error {
	var head struct {
		Ignition struct {
			Version string `json:"version"`
		} `json:"ignition"`
	}
	if err := json.Unmarshal(ign, &head); err != nil {
		return fmt.Errorf("ignition: %w", err)
	}
	o, ok := osvariant.BySpec(head.Ignition.Version)
	if !ok {
		return fmt.Errorf("ignition: spec %q is not the spec of any OS kign supports", head.Ignition.Version)
	}
	return o.Parse(ign)
}

// TranslateDoc translates a merged document (MergeDoc) without printing
// and re-parsing it: the node tree, less the typed entries (see Doc), is
// decoded into Butane's typed config for its variant, validated (Butane's
// own rules) and translated by the same Butane code TranslateBytes calls,
// with the same options; the typed entries are translated as Butane would
// and put back in place; the result is validated as Translate does. The
// JSON is the same byte for byte as Translate on the encoded document
// (TestTranslateDocMatchesTranslate). Unknown keys cannot arise here: every
// source was translated strictly on its own (the skeleton by the tests,
// overlays by CheckOverlay) and the generated part is typed.
func TranslateDoc(name string, doc *Doc) ([]byte, error) {
	var head struct {
		Variant string `yaml:"variant"`
		Version string `yaml:"version"`
	}
	if err := doc.Root.Decode(&head); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t, ok := translators[head.Variant+"/"+head.Version]
	o, known := osvariant.ByButane(head.Variant, head.Version)
	if !ok || !known {
		return nil, fmt.Errorf("%s: kign does not translate %s %s", name, head.Variant, head.Version)
	}
	rest, typed := doc.split()
	ign, rpt, err := t(rest, typed, translateOptions)
	if errors.Is(err, errShape) {
		ign, rpt, err = t(doc.Root, direct{}, translateOptions)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", name, err, rpt.String())
	}
	if len(rpt.Entries) > 0 {
		return nil, fmt.Errorf("%s: butane (strict):\n%s", name, rpt.String())
	}
	out, err := json.Marshal(ign)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := o.Parse(out); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// translators is the registry of Butane spec translators TranslateDoc
// uses, keyed by "variant/version"; every row of osvariant.Table names one
// (TestEveryOSHasATranslator).
var translators = map[string]func(*yaml.Node, direct, common.TranslateOptions) (any, report.Report, error){
	"fcos/1.6.0": func(n *yaml.Node, d direct, o common.TranslateOptions) (any, report.Report, error) {
		var c fcos1_6.Config
		if err := n.Decode(&c); err != nil {
			return nil, report.Report{}, err
		}
		if r := validate.Validate(c, "yaml"); r.IsFatal() || len(r.Entries) > 0 {
			return nil, r, common.ErrInvalidSourceConfig
		}
		ign, r, err := c.ToIgn3_5(o)
		if err == nil {
			err = join35(&ign, d)
		}
		return ign, r, err
	},
	"flatcar/1.1.0": func(n *yaml.Node, d direct, o common.TranslateOptions) (any, report.Report, error) {
		var c flatcar1_1.Config
		if err := n.Decode(&c); err != nil {
			return nil, report.Report{}, err
		}
		if r := validate.Validate(c, "yaml"); r.IsFatal() || len(r.Entries) > 0 {
			return nil, r, common.ErrInvalidSourceConfig
		}
		ign, r, err := c.ToIgn3_4(o)
		if err == nil {
			err = join34(&ign, d)
		}
		return ign, r, err
	},
}
