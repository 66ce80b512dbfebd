package automation

import (
	"testing"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
)

func TestNextRun(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	from := time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC) // a Saturday, the eve of the spring DST change in Paris
	tests := []struct {
		expr, tz string
		want     time.Time
	}{
		{"30 12 * * *", "", time.Date(2026, 3, 28, 12, 30, 0, 0, time.UTC)},
		{"0 12 * * *", "", time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)},          // strictly after
		{"30 2 * * *", "Europe/Paris", time.Date(2026, 3, 29, 3, 30, 0, 0, paris)}, // 02:30 does not exist that night
		{"0 9 * * MON-FRI", "", time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)},
		{"0 9 * * 0", "", time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC)},
		{"0 9 * * 7", "", time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC)},
		{"0 9 1 * ?", "", time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)},
		{"0 9 15 JUL ? 2028", "Asia/Tokyo", time.Date(2028, 7, 15, 9, 0, 0, 0, mustLoad("Asia/Tokyo"))},
		{"0 9 */10 * *", "", time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)},
		{"0 9 13 * FRI", "", time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC)}, // both fields: either matches
		{"0 9 29 2 * 2027-2029", "", time.Date(2028, 2, 29, 9, 0, 0, 0, time.UTC)},
		{"0 9 */9223372036854775807 * *", "", time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}, // a step past every value: the 1st only
	}
	for _, tt := range tests {
		t.Run(tt.expr+" "+tt.tz, func(t *testing.T) {
			s := api.Schedule{ScheduleExpression: ptr(tt.expr)}
			if tt.tz != "" {
				s.ScheduleExpressionTimezone = ptr(tt.tz)
			}
			got, ok := NextRun(s, from)
			if !ok || !got.Equal(tt.want) {
				t.Errorf("NextRun = %v %v, want %v", got, ok, tt.want)
			}
		})
	}
	if _, ok := NextRun(api.Schedule{ScheduleExpression: ptr("0 9 30 2 *")}, from); ok {
		t.Error("30 February runs")
	}
}

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func TestParseCronRefuses(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"", "30 12 * *", "0 30 12 * * * *", "* 12 * * *", "30 * * * *", "30 1,13 * * *", "0-5 12 * * *",
		"30 12/2 * * *", "60 12 * * *", "30 24 * * *", "-1 12 * * *", "+5 12 * * *", "30 12 0 * *", "30 12 32 * *",
		"30 12 * 0 *", "30 12 * FOO *", "30 12 * * 8", "30 12 5-1 * *", "30 12 */0 * *", "30 12 L * *", "30 12 * * * 1969",
	} {
		if _, err := parseCron(expr); err == nil {
			t.Errorf("parseCron(%q) accepted", expr)
		}
	}
}

func TestPriorities(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"0.5", "0.000000000000000000000000000001", "0.999999999999999999999999999999", "0.10"} {
		if err := checkPriority(p); err != nil {
			t.Errorf("checkPriority(%q): %v", p, err)
		}
	}
	for _, p := range []string{"0", "0.0", "1", "1.0", ".5", "0.5 ", "-0.5", "0.1234567890123456789012345678901", "0,5", "5e-1"} {
		if err := checkPriority(p); err == nil {
			t.Errorf("checkPriority(%q) accepted", p)
		}
	}
	// Exact: these differ only in the 30th digit, beyond float64.
	if comparePriority("0.100000000000000000000000000001", "0.1") <= 0 || comparePriority("0.10", "0.1") != 0 {
		t.Error("comparePriority is not exact")
	}
	for _, tt := range []struct {
		existing []string
		want     string
		ok       bool
	}{
		{nil, "0.5", true},
		{[]string{"0.5", "0.25", "0.7"}, "0.125", true},
		{[]string{"0.000000000000000000000000000003"}, "0.000000000000000000000000000001", true},
		{[]string{"0.000000000000000000000000000001"}, "", false},
	} {
		got, ok := priorityAbove(tt.existing)
		if got != tt.want || ok != tt.ok {
			t.Errorf("priorityAbove(%v) = %q %v, want %q %v", tt.existing, got, ok, tt.want, tt.ok)
		}
	}
}
