package automation

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones even on machines without a zoneinfo database

	api "github.com/orgstack/orgstack/internal/api/automation"
)

// cronSpec is a parsed rule schedule: a fixed time of day and the days it
// applies to. The model documents six fields (minutes hours day_of_month
// month day_of_week year) while its own example, "30 12 * * *", has five;
// both are accepted, a missing year meaning every year.
//
// Day-of-week numbers follow Unix cron (0 or 7 is Sunday) and names
// (SUN-SAT) work too. When both day fields are restricted, a day matching
// either runs, as in Unix cron; "?" means the same as "*".
type cronSpec struct {
	minute, hour int
	dom          fieldSet // 1-31
	month        fieldSet // 1-12
	dow          fieldSet // 0-6
	year         fieldSet // minYear-maxYear
	domAny       bool
	dowAny       bool
}

// fieldSet is the set of values a cron field allows.
type fieldSet map[int]bool

const (
	minYear = 1970
	maxYear = 2199
)

type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is the value min+i
}

var (
	domField   = cronField{name: "day_of_month", min: 1, max: 31}
	monthField = cronField{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	dowField   = cronField{name: "day_of_week", min: 0, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	yearField  = cronField{name: "year", min: minYear, max: maxYear}
)

// parseCron parses a schedule expression. Minutes and hours must be single
// values, which also makes the rule run at most once a day.
func parseCron(expr string) (*cronSpec, error) {
	fields := strings.Fields(expr)
	if len(fields) != 5 && len(fields) != 6 {
		return nil, fmt.Errorf("a cron expression has five or six fields (minutes hours day_of_month month day_of_week [year]); %q has %d", expr, len(fields))
	}
	if len(fields) == 5 {
		fields = append(fields, "*")
	}
	c := &cronSpec{}
	var err error
	if c.minute, err = fixedValue(fields[0], "minutes", 59); err != nil {
		return nil, err
	}
	if c.hour, err = fixedValue(fields[1], "hours", 23); err != nil {
		return nil, err
	}
	if c.dom, c.domAny, err = parseField(fields[2], domField); err != nil {
		return nil, err
	}
	if c.month, _, err = parseField(fields[3], monthField); err != nil {
		return nil, err
	}
	if c.dow, c.dowAny, err = parseField(fields[4], dowField); err != nil {
		return nil, err
	}
	if c.dow[7] {
		c.dow[0] = true
	}
	if c.year, _, err = parseField(fields[5], yearField); err != nil {
		return nil, err
	}
	return c, nil
}

func fixedValue(s, name string, max int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max || strings.ContainsAny(s, "+-") {
		return 0, fmt.Errorf("the %s field must be one number from 0 to %d (no wildcards, lists, ranges or steps, so that the rule runs at most once a day); got %q", name, max, s)
	}
	return n, nil
}

// parseField parses a list of values, ranges and steps (1,15 / MON-FRI /
// */2 / 1-20/5) or a wildcard. any reports a wildcard.
func parseField(s string, f cronField) (set fieldSet, any bool, err error) {
	set = fieldSet{}
	if s == "*" || s == "?" {
		for v := f.min; v <= f.max; v++ {
			set[v] = true
		}
		return set, true, nil
	}
	for _, part := range strings.Split(s, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			if step, err = strconv.Atoi(stepStr); err != nil || step < 1 {
				return nil, false, fmt.Errorf("bad step %q in the %s field", stepStr, f.name)
			}
		}
		lo, hi := f.min, f.max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			if lo, err = f.value(a); err != nil {
				return nil, false, err
			}
			hi = lo
			if isRange {
				if hi, err = f.value(b); err != nil {
					return nil, false, err
				}
			} else if hasStep {
				hi = f.max
			}
			if hi < lo {
				return nil, false, fmt.Errorf("the range %q in the %s field runs backwards", rng, f.name)
			}
		}
		for v := lo; v <= hi; v += step {
			set[v] = true
			if step > hi-v {
				break // the next value passes hi; adding could overflow
			}
		}
	}
	return set, false, nil
}

func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max || strings.ContainsAny(s, "+-") {
		return 0, fmt.Errorf("%q is not a value of the %s field (%d-%d)", s, f.name, f.min, f.max)
	}
	return n, nil
}

// matches reports whether the schedule runs on the given day.
func (c *cronSpec) matches(d time.Time) bool {
	if !c.year[d.Year()] || !c.month[int(d.Month())] {
		return false
	}
	dom, dow := c.dom[d.Day()], c.dow[int(d.Weekday())]
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom || dow
}

// next returns the first run strictly after t in loc, or false when the
// schedule never runs again.
func (c *cronSpec) next(t time.Time, loc *time.Location) (time.Time, bool) {
	local := t.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	for day.Year() <= maxYear {
		if !c.year[day.Year()] {
			day = time.Date(day.Year()+1, 1, 1, 0, 0, 0, 0, loc)
			continue
		}
		if c.matches(day) {
			run := time.Date(day.Year(), day.Month(), day.Day(), c.hour, c.minute, 0, 0, loc)
			if run.After(t) {
				return run, true
			}
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	}
	return time.Time{}, false
}

// location resolves a schedule's time zone; UTC when it names none, as the
// model's example reads "12:30 PM UTC".
func location(tz *string) (*time.Location, error) {
	if tz == nil {
		return time.UTC, nil
	}
	// "Local" and "" are Go's names, not IANA zones.
	if *tz == "" || *tz == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone", *tz)
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone", *tz)
	}
	return loc, nil
}

// checkSchedule validates a rule's schedule: an expression that runs at
// least once more after now, a known time zone, and a window the
// validator already bounded to 60-1440 minutes.
func checkSchedule(s *api.Schedule, now time.Time) error {
	bad := func(err error) error {
		return api.NewInvalidParameterValueException("Invalid schedule: " + err.Error() + ".")
	}
	if s.ScheduleExpression == nil {
		return bad(fmt.Errorf("scheduleExpression is required"))
	}
	c, err := parseCron(*s.ScheduleExpression)
	if err != nil {
		return bad(err)
	}
	loc, err := location(s.ScheduleExpressionTimezone)
	if err != nil {
		return bad(err)
	}
	if _, ok := c.next(now, loc); !ok {
		return bad(fmt.Errorf("%q never runs after %s", *s.ScheduleExpression, now.In(loc).Format(time.RFC3339)))
	}
	return nil
}

// NextRun returns when a schedule next runs after t, for the scheduler;
// false when it never does (or is not valid).
func NextRun(s api.Schedule, t time.Time) (time.Time, bool) {
	if s.ScheduleExpression == nil {
		return time.Time{}, false
	}
	c, err := parseCron(*s.ScheduleExpression)
	if err != nil {
		return time.Time{}, false
	}
	loc, err := location(s.ScheduleExpressionTimezone)
	if err != nil {
		return time.Time{}, false
	}
	return c.next(t, loc)
}
