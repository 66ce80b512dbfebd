package main

import (
	"io"
	"testing"
)

func TestPolicyQuotaFlags(t *testing.T) {
	t.Parallel()
	getenv := func(string) string { return "" }
	cfg, err := parseConfig([]string{"--data-dir", ":memory:",
		"--quota", "policySize.SERVICE_CONTROL_POLICY=5120", "--quota", "policiesPerTarget.SERVICE_CONTROL_POLICY=5", "--quota", "ouDepth=3"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	q := cfg.Quotas
	if q.PolicySize.ServiceControlPolicy != 5120 || q.PoliciesPerTarget.ServiceControlPolicy != 5 || q.OUDepth != 3 {
		t.Errorf("quotas = %+v", q)
	}
	// The other types keep AWS's defaults.
	if q.PolicySize.TagPolicy != 10000 || q.PoliciesPerTarget.ResourceControlPolicy != 5 || q.PoliciesPerOrganization.ServiceControlPolicy != 10000 {
		t.Errorf("defaults lost: %+v", q)
	}
	for _, bad := range []string{"policySize.NOT_A_TYPE=1", "policySize.TAG_POLICY=-1", "policySize=3"} {
		if _, err := parseConfig([]string{"--data-dir", ":memory:", "--quota", bad}, getenv, io.Discard); err == nil {
			t.Errorf("--quota %s accepted", bad)
		}
	}
}
