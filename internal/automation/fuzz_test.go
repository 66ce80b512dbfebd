package automation

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/inventory"
	"github.com/orgstack/orgstack/internal/protocol"
)

// The fuzz targets check the parsers of what a rule holds: its schedule
// expression and its criteria. Seed corpora live in
// testdata/fuzz/<FuzzName>/; run e.g.
//
//	go test -run '^$' -fuzz '^FuzzParseCron$' -fuzztime 60s ./internal/automation

var fuzzFrom = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// FuzzParseCron: a refused expression is refused with a message; an
// accepted one holds only values of its fields, reads back the same from
// its canonical form, and its next run is a run (at the expression's time
// of day, on a matching day) with none before it.
func FuzzParseCron(f *testing.F) {
	for _, expr := range []string{
		"30 12 * * *", "0 9 * * MON-FRI", "0 9 1 * ?", "0 9 15 JUL ? 2028", "0 9 */10 * *", "0 9 13 * FRI",
		"0 9 29 2 * 2027-2029", "0 9 30 2 *", "0 0 1-20/5 1,6,DEC 0,7 2199", "59 23 31 12 SAT-SUN */7",
		"0 0 */9223372036854775807 * *", // a step that overflowed and put -1 and MinInt64 in the set
	} {
		f.Add(expr, "")
	}
	f.Add("30 2 * * *", "Europe/Paris")
	f.Add("0 0 * * *", "Local")
	f.Add("0 0 * * *", "../../etc/passwd")
	f.Fuzz(func(t *testing.T, expr, tz string) {
		c, err := parseCron(expr)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal without a message")
			}
			return
		}
		if c.minute < 0 || c.minute > 59 || c.hour < 0 || c.hour > 23 {
			t.Fatalf("%q: time of day %d:%d", expr, c.hour, c.minute)
		}
		for _, fs := range []struct {
			set fieldSet
			f   cronField
		}{{c.dom, domField}, {c.month, monthField}, {c.dow, dowField}, {c.year, yearField}} {
			for v := range fs.set {
				if v < fs.f.min || v > fs.f.max {
					t.Fatalf("%q: %s holds %d", expr, fs.f.name, v)
				}
			}
		}
		canon := canonicalCron(c)
		again, err := parseCron(canon)
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("%q: its canonical form %q reads back as %+v, %v", expr, canon, again, err)
		}

		loc := time.UTC
		if l, err := location(&tz); err == nil {
			loc = l
		} else if tz == "UTC" {
			t.Fatalf("UTC refused: %v", err)
		}
		run, ok := c.next(fuzzFrom, loc)
		if !ok {
			return
		}
		local := run.In(loc)
		if !run.After(fuzzFrom) || !c.matches(time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)) {
			t.Fatalf("%q in %s: next run %v is not a run after %v", expr, loc, run, fuzzFrom)
		}
		// In UTC every day has every time of day; elsewhere a DST gap
		// moves a run, as time.Date normalises it.
		if loc == time.UTC && (run.Hour() != c.hour || run.Minute() != c.minute || run.Second() != 0) {
			t.Fatalf("%q: next run %v is not at %02d:%02d", expr, run, c.hour, c.minute)
		}
		// No run lies between: from any earlier instant after fuzzFrom,
		// the next run is the same.
		if mid := fuzzFrom.Add(run.Sub(fuzzFrom) / 2); mid.Before(run) {
			if again, ok := c.next(mid, loc); !ok || !again.Equal(run) {
				t.Fatalf("%q in %s: next after %v is %v, but after %v it is %v", expr, loc, fuzzFrom, run, mid, again)
			}
		}
	})
}

// canonicalCron writes a parsed schedule back as an expression.
func canonicalCron(c *cronSpec) string {
	list := func(set fieldSet, any bool) string {
		if any {
			return "*"
		}
		vals := slices.Sorted(maps.Keys(set))
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = strconv.Itoa(v)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprintf("%d %d %s %s %s %s", c.minute, c.hour, list(c.dom, c.domAny),
		list(c.month, false), list(c.dow, c.dowAny), list(c.year, false))
}

// FuzzWildcardMatch compares the StringLike matcher with the regular
// expression it stands for.
func FuzzWildcardMatch(f *testing.F) {
	for _, p := range [][2]string{
		{"dev*", "development"}, {"*", ""}, {"a?c", "abc"}, {"arn:aws:ec2:*:*:volume/vol-*", "arn:aws:ec2:us-east-1:111111111111:volume/vol-1"},
		{"*a*a*a*a*b", strings.Repeat("a", 64)}, {"é?", "éé"}, {"?", "\xff"}, {"**?*", "x"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 512 || len(s) > 512 {
			return // criteria values are at most 512 characters
		}
		var re strings.Builder
		re.WriteString(`^(?s:`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`)$`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := wildcardMatch(pattern, s); got != want {
			t.Fatalf("wildcardMatch(%q, %q) = %v, the regular expression %s says %v", pattern, s, got, re.String(), want)
		}
	})
}

// fuzzFleet is a generated fleet with the tag values that need escaping,
// each volume with its stored JSON and its recommended actions.
var fuzzFleet = sync.OnceValue(func() []fleetVolume {
	now := fuzzFrom
	vols, err := inventory.Generate(inventory.GenerateSpec{AccountIDs: []string{"111111111111"}, Regions: []string{"us-east-1", "eu-west-1"}, Volumes: 300, Seed: 7}, now)
	if err != nil {
		panic(err)
	}
	vols[0].Tags["team"] = `we"b <&>`
	vols[1].Tags["ünï"] = "cödé"
	vols[2].Tags["empty"] = ""
	var fleet []fleetVolume
	for _, v := range vols {
		raw, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		fleet = append(fleet, fleetVolume{raw: raw, actions: deriveActions(v, now)})
	}
	return fleet
})

type fleetVolume struct {
	raw     []byte
	actions []action
}

// FuzzCriteria drives a rule's action types and criteria, as a preview
// request's body, through the whole path: the awsJson decoder, the
// model's validator and the domain's checks refuse with client errors
// only; what they accept evaluates against a fleet without panicking,
// and the prefilter never holds back a volume whose action the rule takes.
func FuzzCriteria(f *testing.F) {
	for _, body := range []string{
		`{"ruleType":"AccountRule","recommendedActionTypes":["SnapshotAndDeleteUnattachedEbsVolume","UpgradeEbsVolumeType"]}`,
		`{"ruleType":"AccountRule","recommendedActionTypes":["UpgradeEbsVolumeType"],"criteria":{"ebsVolumeType":[{"comparison":"StringEquals","values":["io1","st1"]}]}}`,
		`{"ruleType":"AccountRule","recommendedActionTypes":["SnapshotAndDeleteUnattachedEbsVolume"],"criteria":{"resourceTag":[{"comparison":"StringEquals","key":"team","values":["we\"b <&>","ml"]}]}}`,
		`{"ruleType":"AccountRule","recommendedActionTypes":["SnapshotAndDeleteUnattachedEbsVolume"],"criteria":{"resourceTag":[{"comparison":"StringNotLikeIfExists","key":"env","values":["p*"]}],"region":[{"comparison":"StringLike","values":["us-*"]}]}}`,
		`{"ruleType":"AccountRule","recommendedActionTypes":["UpgradeEbsVolumeType"],"criteria":{"ebsVolumeSizeInGib":[{"comparison":"NumericGreaterThan","values":[100]}],"estimatedMonthlySavings":[{"comparison":"NumericGreaterThanEquals","values":[1.5]}],"lookBackPeriodInDays":[{"comparison":"NumericLessThanEquals","values":[14]}]}}`,
		`{"ruleType":"AccountRule","recommendedActionTypes":["UpgradeEbsVolumeType"],"criteria":{"restartNeeded":[{"comparison":"StringEqualsIgnoreCase","values":["FALSE"]}],"resourceArn":[{"comparison":"StringNotEquals","values":["arn:aws:ec2:us-east-1:111111111111:volume/vol-1"]}]}}`,
		`{"ruleType":"AccountRule","recommendedActionTypes":["UpgradeEbsVolumeType"],"criteria":{"ebsVolumeType":[{"comparison":"NumericEquals","values":["gp2"]}]}}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in api.ListAutomationRulePreviewInput
		if err := protocol.CodecFor(protocol.AWSJSON10).Decode(body, &in); err != nil {
			checkClientError(t, err)
			return
		}
		if err := in.Validate(); err != nil {
			var ve *protocol.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate: %T %v", err, err)
			}
			return
		}
		cfg := previewConfig{ruleType: *in.RuleType, scope: in.OrganizationScope, types: in.RecommendedActionTypes, criteria: in.Criteria}
		if err := checkPreview(cfg); err != nil {
			checkClientError(t, err)
			return
		}
		keep := ruleFilter(cfg.types, cfg.criteria)
		for _, v := range fuzzFleet() {
			for i := range v.actions {
				if cfg.matches(&v.actions[i]) && !keep(v.raw) {
					t.Fatalf("the prefilter holds back %s, whose %s action the rule takes", v.raw, v.actions[i].Type)
				}
			}
		}
	})
}

func checkClientError(t *testing.T, err error) {
	t.Helper()
	var apiErr protocol.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorFault() != protocol.FaultClient || apiErr.HTTPStatus() < 400 || apiErr.HTTPStatus() > 499 {
		t.Fatalf("refused with %T %v, not a client error", err, err)
	}
}
