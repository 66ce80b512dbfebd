package e2e

import (
	"net/http"
	"reflect"
	"regexp"
	"testing"
	"time"
)

func TestInventoryAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Clock.Set(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	acct := accountID(370, 1)
	bad := []string{
		`{"volumes":[{"accountId":"12","region":"us-east-1","volumeType":"gp2","sizeInGib":10}]}`,
		`{"volumes":[{"accountId":"370000000001","region":"mars","volumeType":"gp2","sizeInGib":10}]}`,
		`{"volumes":[{"accountId":"370000000001","region":"us-east-1","volumeType":"gp9","sizeInGib":10}]}`,
		`{"volumes":[{"accountId":"370000000001","region":"us-east-1","volumeType":"st1","sizeInGib":10}]}`,
		`{"volumes":[{"accountId":"370000000001","region":"us-east-1","volumeType":"gp2","sizeInGib":10,"failStep":"Reboot"}]}`,
		`{"volumes":[{"accountId":"370000000001","region":"us-east-1","volumeType":"gp2","sizeInGib":10,"volumeId":"vol-1"}]}`,
		`{"volumes":[{"accountId":"370000000001","region":"us-east-1","volumeType":"gp2","sizeInGib":10,"attached":true,"unattachedSince":"2026-01-01T00:00:00Z"}]}`,
		`{"volumes":[{"accountId":"370000000001","region":"us-east-1","volumeType":"gp2","sizeInGib":10,"unattachedSince":"2027-01-01T00:00:00Z"}]}`,
		`not json`,
	}
	for _, body := range bad {
		if status, m := e.adminDo(t, "POST", "/_orgstack/inventory/ebs-volumes", body); status != http.StatusBadRequest || m["error"] == nil {
			t.Errorf("%s: %d %v", body, status, m)
		}
	}
	ids := seedVolumes(t, e,
		map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 200, "attached": false},
		map[string]any{"accountId": acct, "region": "eu-west-1", "volumeType": "gp3", "sizeInGib": 10, "attached": true, "volumeId": "vol-0123456789abcdef0"})
	if !regexp.MustCompile(`^vol-[0-9a-f]{17}$`).MatchString(ids[0]) || ids[1] != "vol-0123456789abcdef0" {
		t.Errorf("ids %v", ids)
	}
	if status, _ := e.adminDo(t, "POST", "/_orgstack/inventory/ebs-volumes", `{"volumes":[{"accountId":"370000000001","region":"us-east-1","volumeType":"gp2","sizeInGib":10,"volumeId":"vol-0123456789abcdef0"}]}`); status != http.StatusConflict {
		t.Errorf("a volume id twice: %d", status)
	}
	v := inventoryVolumes(t, e, acct)
	// gp2 of 200 GiB: 600 IOPS and 250 MiB/s baseline; unattached since now.
	if g := v[ids[0]]; g["iops"] != 600.0 || g["throughput"] != 250.0 || g["state"] != "available" || g["unattachedSince"] != "2026-02-01T00:00:00Z" {
		t.Errorf("gp2: %v", g)
	}
	if g := v[ids[1]]; g["iops"] != 3000.0 || g["throughput"] != 125.0 || g["state"] != "in-use" {
		t.Errorf("gp3: %v", g)
	}
	if status, m := e.adminDo(t, "GET", "/_orgstack/inventory/ebs-volumes?accountId="+acct+"&region=eu-west-1", ""); status != 200 || len(m["volumes"].([]any)) != 1 {
		t.Errorf("by region: %d %v", status, m)
	}
	if status, _ := e.adminDo(t, "GET", "/_orgstack/inventory/ebs-volumes", ""); status != http.StatusBadRequest {
		t.Errorf("no account: %d", status)
	}
	if status, m := e.adminDo(t, "GET", "/_orgstack/inventory/ebs-snapshots?accountId="+acct, ""); status != 200 || len(m["snapshots"].([]any)) != 0 {
		t.Errorf("snapshots: %d %v", status, m)
	}

	// generate: the same seed gives the same fleet.
	gen := func(e *env) map[string]map[string]any {
		if status, m := e.adminDo(t, "POST", "/_orgstack/inventory/generate", `{"accountIds":["371000000001","371000000002"],"regions":["us-east-1","eu-west-1"],"volumes":200,"seed":42}`); status != 200 || m["volumes"] != 200.0 {
			t.Fatalf("generate: %d %v", status, m)
		}
		out := inventoryVolumes(t, e, "371000000001")
		for k, v := range inventoryVolumes(t, e, "371000000002") {
			out[k] = v
		}
		return out
	}
	first := gen(e)
	e2 := newEnv(t)
	e2.Clock.Set(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if second := gen(e2); len(first) != 200 || !reflect.DeepEqual(first, second) {
		t.Errorf("generate is not deterministic: %d vs %d volumes", len(first), len(second))
	}
	if status, _ := e.adminDo(t, "POST", "/_orgstack/inventory/generate", `{"accountIds":[],"regions":["us-east-1"],"volumes":1}`); status != http.StatusBadRequest {
		t.Errorf("generate without accounts: %d", status)
	}
}
