package inventory

// Values of cluster.audit.policy.
const (
	AuditDefault = "default"
	AuditOff     = "off"
)

// Defaults of the audit log's rotation: at most about 1 GB (11 files of
// 100 MB) per master, none older than 30 days.
const (
	DefaultAuditMaxAgeDays = 30
	DefaultAuditMaxBackups = 10
	DefaultAuditMaxSizeMB  = 100
)

// AuditLog is cluster.audit with its defaults filled in; ResolveAudit is
// the one place that computes them, for the validator and the planner.
type AuditLog struct {
	Enabled                           bool
	MaxAgeDays, MaxBackups, MaxSizeMB int
}

// ResolveAudit fills in the defaults of a.
func ResolveAudit(a Audit) AuditLog {
	return AuditLog{
		Enabled:    a.Policy != AuditOff,
		MaxAgeDays: or(a.MaxAgeDays, DefaultAuditMaxAgeDays),
		MaxBackups: or(a.MaxBackups, DefaultAuditMaxBackups),
		MaxSizeMB:  or(a.MaxSizeMB, DefaultAuditMaxSizeMB),
	}
}

// audit checks cluster.audit: a known policy and positive rotation values
// (0 written out is refused: kube-apiserver reads 0 as "keep forever").
func (v *validator) audit() {
	a := v.inv.Cluster.Audit
	const at = "cluster.audit"
	if a.Policy != "" {
		v.oneOf(at+".policy", a.Policy, AuditDefault, AuditOff)
	}
	for _, f := range []struct {
		name string
		x    int
	}{{"maxAgeDays", a.MaxAgeDays}, {"maxBackups", a.MaxBackups}, {"maxSizeMB", a.MaxSizeMB}} {
		if path := at + "." + f.name; v.given(path, f.x) && f.x < 1 {
			v.errorf(path, "%d is not a positive number (leave it out for the default)", f.x)
		}
	}
}
