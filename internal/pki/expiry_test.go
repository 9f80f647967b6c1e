package pki

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

// TestCheck runs Check on a cold bundle (leaves valid one year, CAs ten)
// at several fixed clocks.
func TestCheck(t *testing.T) {
	b, _ := coldBundle(t, ECDSA)
	leaves := len(leafRows(seedPlan(ECDSA)))
	tests := []struct {
		name   string
		at     time.Duration // after fixedNow
		within time.Duration
		want   map[string]int // state → rows
	}{
		{"fresh", 0, 30 * day, map[string]int{StateOK: rows(3)}},
		{"day 334 is 31 days before expiry", 334 * day, 30 * day, map[string]int{StateOK: rows(3)}},
		{"day 336 is within 30 days", 336 * day, 30 * day, map[string]int{StateOK: 4, StateExpiring: leaves}},
		{"a wider threshold", 200 * day, 180 * day, map[string]int{StateOK: 4, StateExpiring: leaves}},
		{"day 366 is past expiry", 366 * day, 30 * day, map[string]int{StateOK: 4, StateExpired: leaves}},
		{"CAs within the threshold", 3640 * day, 30 * day, map[string]int{StateOK: 1, StateExpiring: 3, StateExpired: leaves}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]int{}
			for _, st := range b.Check(fixedNow.Add(tt.at), tt.within) {
				got[st.State]++
				if st.Bad() != (st.State != StateOK) {
					t.Errorf("%s: Bad() %v for %s", st.Spec, st.Bad(), st.State)
				}
				if st.Kind == KindCA && st.State == StateExpiring && !strings.Contains(st.Problem, "never renews a CA") {
					t.Errorf("%s: problem %q", st.Spec, st.Problem)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("states %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("states %v, want %v", got, tt.want)
				}
			}
		})
	}
	t.Run("rows and columns", func(t *testing.T) {
		all := b.Check(fixedNow, 30*day)
		st := all[slices.IndexFunc(all, func(s Status) bool { return s.Spec == EtcdPeer && s.Host == "master1" })]
		if st.Subject != "CN=master1" || !slices.Equal(st.SANs, []string{"localhost", "master1", "10.22.108.79", "127.0.0.1"}) ||
			st.Left != 365*day || !st.NotAfter.Equal(fixedNow.Add(365*day)) {
			t.Errorf("%+v", st)
		}
		if sa := all[3]; sa.Spec != ServiceAccountKey || !sa.NotAfter.IsZero() || sa.Bad() {
			t.Errorf("%+v", sa)
		}
	})
	t.Run("a foreign certificate is invalid", func(t *testing.T) {
		b, _ := coldBundle(t, ECDSA)
		other := New()
		if _, err := other.Complete(seedPlan(ECDSA), Options{Now: fixedNow}); err != nil {
			t.Fatal(err)
		}
		o, _ := other.Get(Admin, "")
		b.get(Admin, "").set(o.CertPEM, o.KeyPEM)
		for _, st := range b.Check(fixedNow, 30*day) {
			if (st.Spec == Admin) != (st.State == StateInvalid) {
				t.Errorf("%s: %s %s", st.Spec, st.State, st.Problem)
			}
		}
	})
}

// TestRenew checks renewal with a fixed clock: leaves within the threshold
// (or all, or expired ones) are re-issued from the run's clock; CAs and the
// service-account key never are; an expired CA is an error.
func TestRenew(t *testing.T) {
	leaves := leafRows(seedPlan(ECDSA))
	tests := []struct {
		name    string
		at      time.Duration
		o       Options
		renewed []string
		reason  string
		wantErr string
	}{
		{name: "nothing due", at: 300 * day, o: Options{RenewWithin: 30 * day}},
		{name: "within 30 days", at: 340 * day, o: Options{RenewWithin: 30 * day}, renewed: leaves, reason: "expires on 2027-07-01, within 30 days"},
		{name: "all", at: 10 * day, o: Options{RenewAll: true}, renewed: leaves, reason: "renewal requested"},
		{name: "expired leaves are re-issued by any run", at: 400 * day, renewed: leaves, reason: "expired on 2027-07-01"},
		{name: "an expired CA is an error", at: 3651 * day, wantErr: "ca CA (ca.crt, ca.key): expired on 2036-06-28; kign never replaces a CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := coldBundle(t, ECDSA)
			now := fixedNow.Add(tt.at)
			tt.o.Now = now
			events, err := b.Complete(seedPlan(ECDSA), tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := eventsWith(events, ActionReissued); !slices.Equal(got, tt.renewed) {
				t.Errorf("re-issued %v, want %v", got, tt.renewed)
			}
			for _, e := range events {
				if e.Action == ActionReissued && e.Reason != tt.reason {
					t.Errorf("%v: want reason %q", e, tt.reason)
				}
			}
			if tt.renewed == nil {
				return
			}
			for _, st := range b.Check(now, 30*day) {
				if st.Bad() {
					t.Errorf("after renewal: %+v", st)
				}
			}
			kp, _ := b.Get(EtcdServer, "master0")
			if !kp.Cert.NotBefore.Equal(now.Add(-Backdate)) {
				t.Errorf("renewed NotBefore %s, want the run's clock", kp.Cert.NotBefore)
			}
			ca, _ := b.Get(CA, "")
			if !ca.Cert.NotBefore.Equal(fixedNow.Add(-Backdate)) {
				t.Error("the CA was renewed")
			}
		})
	}
	t.Run("a leaf never outlives its CA", func(t *testing.T) {
		b, _ := coldBundle(t, ECDSA)
		now := fixedNow.Add(3500 * day)
		if _, err := b.Complete(seedPlan(ECDSA), Options{Now: now}); err != nil {
			t.Fatal(err)
		}
		kp, _ := b.Get(Admin, "")
		ca, _ := b.Get(CA, "")
		if !kp.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
			t.Errorf("admin expires %s, CA %s", kp.Cert.NotAfter, ca.Cert.NotAfter)
		}
	})
}
