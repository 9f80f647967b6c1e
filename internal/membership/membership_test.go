package membership

import (
	"strings"
	"testing"
)

func TestPlanRemove(t *testing.T) {
	five := []Member{
		{ID: 1, Name: "m0"}, {ID: 2, Name: "m1"}, {ID: 3, Name: "m2"}, {ID: 4, Name: "m3"}, {ID: 5, Name: "m4"},
	}
	up := func(ids ...uint64) map[uint64]bool {
		m := map[uint64]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		members []Member
		healthy map[uint64]bool
		remove  string
		wantID  uint64
		wantErr string
	}{
		{"a dead member of 3", five[:3], up(1, 2), "m2", 3, ""},
		{"a live member of 3, all up", five[:3], up(1, 2, 3), "m0", 1, ""},
		{"of 3 with one other down", five[:3], up(1, 3), "m0", 0, "2 voting members of which 1 answer; quorum needs 2"},
		{"of 5 with one other down", five, up(1, 2, 3, 5), "m4", 5, ""},
		{"of 5 with two others down", five, up(1, 2, 5), "m4", 0, "4 voting members of which 2 answer; quorum needs 3"},
		{"learners do not count", append(five[:3:3], Member{ID: 9, Name: "l", IsLearner: true}), up(1, 9), "m1", 0, "2 voting members of which 1 answer"},
		{"the last voter", []Member{{ID: 1, Name: "m0"}}, up(1), "m0", 0, "last voting member"},
		{"no such member", five[:3], up(1, 2, 3), "m9", 0, `etcd has no member "m9"`},
		{"a learner may go", append(five[:3:3], Member{ID: 9, Name: "l", IsLearner: true}), up(1, 2, 3), "l", 9, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := PlanRemove(tc.members, tc.healthy, tc.remove)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, %v; want an error containing %q", m, err, tc.wantErr)
				}
			case err != nil || m.ID != tc.wantID:
				t.Fatalf("got %v, %v; want member %d", m, err, tc.wantID)
			}
		})
	}
}

// A member that answers but follows no leader, or another one than most
// do (partitioned), is not up.
func TestHealthy(t *testing.T) {
	h := Healthy(map[uint64]uint64{1: 1, 2: 1, 3: 3})
	if !h[1] || !h[2] || h[3] || h[4] {
		t.Fatalf("healthy %v: want 1 and 2 only", h)
	}
}
