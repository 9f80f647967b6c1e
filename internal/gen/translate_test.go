package gen

import (
	"bytes"
	"testing"

	"github.com/kign-project/kign/butane"
)

// TestTranslateNodeMatchesTranslate: the fast path (merged node tree
// straight into Butane's typed translator) gives the same bytes as Butane's
// own TranslateBytes on the emitted .bu, for every host of both examples
// (fcos 1.6.0 and flatcar 1.1.0). This is what lets <host>.bu stand for the
// config it came with.
func TestTranslateNodeMatchesTranslate(t *testing.T) {
	for _, path := range examples {
		_, _, res := generate(t, path)
		for _, hc := range res.Hosts {
			slow, err := butane.Translate(hc.Host.Name+".bu", hc.Butane)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(slow, hc.Ignition) {
				t.Errorf("%s: TranslateNode and butane's TranslateBytes disagree", hc.Host.Name)
			}
		}
	}
}
