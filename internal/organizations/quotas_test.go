package organizations

import (
	"encoding/json"
	"testing"
	"time"
)

func TestClosuresAllowed(t *testing.T) {
	t.Parallel()
	q := DefaultQuotas()
	for _, c := range []struct{ members, want int }{
		{1, 250}, {1249, 250}, {1250, 250}, {1300, 260}, {5000, 1000}, {20000, 1000},
	} {
		if got := q.ClosuresAllowed(c.members); got != c.want {
			t.Errorf("ClosuresAllowed(%d) = %d, want %d", c.members, got, c.want)
		}
	}
}

func TestQuotasJSONRoundTrip(t *testing.T) {
	t.Parallel()
	q := DefaultQuotas()
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	var back Quotas
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != q {
		t.Fatalf("round trip: %+v, want %+v", back, q)
	}
	if time.Duration(back.CreatedAccountRemovalWait) != 96*time.Hour {
		t.Errorf("removal wait = %v, want 4 days", time.Duration(back.CreatedAccountRemovalWait))
	}
}

func TestQuotasValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultQuotas().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := DefaultQuotas()
	bad.AccountsPerOrganization = 0
	if bad.Validate() == nil {
		t.Error("zero accounts per organization accepted")
	}
	bad = DefaultQuotas()
	bad.ClosureWindow = 0
	if bad.Validate() == nil {
		t.Error("zero closure window accepted")
	}
}
