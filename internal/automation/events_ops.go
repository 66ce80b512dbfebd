package automation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/inventory"
	"github.com/orgstack/orgstack/internal/store"
)

// actsOn reports whether the caller may act on (and see the events of) an
// account: its own, or, for a manager, a member associated with its
// organization (model docs of StartAutomationEvent and
// RollbackAutomationEvent: managers act for associated members only).
func actsOn(tx store.Tx, req *requester, account string) (bool, error) {
	if account == req.id {
		return true, nil
	}
	if !req.manager || !req.trusted {
		return false, nil
	}
	e, err := loadEnrollment(tx, account)
	return err == nil && e.AssociatedOrg == req.mem.OrgID, err
}

// StartAutomationEvent acts on one recommended action now.
func (s *Service) StartAutomationEvent(ctx context.Context, in *api.StartAutomationEventInput) (*api.StartAutomationEventOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	id := *in.RecommendedActionId
	if !eventIDRE.MatchString(id) {
		return nil, invalid("The recommendedActionId %q is not 16 letters and digits.", id)
	}
	var out *api.StartAutomationEventOutput
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		out, err = idempotent(tx, now, p.AccountID, "StartAutomationEvent", in.ClientToken, in, func() (*api.StartAutomationEventOutput, error) {
			req, err := loadRequester(tx, p.AccountID)
			if err != nil {
				return nil, err
			}
			if err := req.requireOptIn(); err != nil {
				return nil, err
			}
			a, err := findAction(tx, req, id, now)
			if err != nil {
				return nil, err
			}
			if err := checkQuota(tx, a, now); err != nil {
				return nil, err
			}
			e, err := startEvent(tx, a, "", now)
			if err != nil {
				return nil, err
			}
			return &api.StartAutomationEventOutput{RecommendedActionId: ptr(id), EventId: ptr(e.ID), EventStatus: ptr(e.Status)}, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return out, nil
}

// findAction resolves a recommended action id the caller may act on.
func findAction(tx store.Tx, req *requester, id string, now time.Time) (*action, error) {
	notFound := api.NewResourceNotFoundException(fmt.Sprintf("No recommended action %s applies now.", id))
	v, err := inventory.VolumeByDigest(tx, id[:inventory.DigestLen])
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if ok, err := actsOn(tx, req, v.AccountID); err != nil {
		return nil, err
	} else if !ok {
		return nil, notFound
	}
	for _, a := range deriveActions(v, now) {
		if a.ID() == id {
			return &a, nil
		}
	}
	return nil, notFound
}

// visibleEvent finds an event the caller may see.
func visibleEvent(tx store.Tx, req *requester, id string) (*event, error) {
	if !eventIDRE.MatchString(id) {
		return nil, invalid("The eventId %q is not 16 letters and digits.", id)
	}
	e, err := getEvent(tx, id)
	if err != nil {
		return nil, err
	}
	if ok, err := actsOn(tx, req, e.Account); err != nil {
		return nil, err
	} else if !ok {
		return nil, errEventNotFound(id)
	}
	return e, nil
}

// GetAutomationEvent describes one event.
func (s *Service) GetAutomationEvent(ctx context.Context, in *api.GetAutomationEventInput) (*api.GetAutomationEventOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.GetAutomationEventOutput
	err = s.store.Read(ctx, func(tx store.Tx) error {
		req, err := loadRequester(tx, p.AccountID)
		if err != nil {
			return err
		}
		if err := req.requireOptIn(); err != nil {
			return err
		}
		e, err := visibleEvent(tx, req, *in.EventId)
		if err != nil {
			return err
		}
		a := e.toAPI()
		out = &api.GetAutomationEventOutput{
			EventId: a.EventId, EventDescription: a.EventDescription, EventType: a.EventType, EventStatus: a.EventStatus,
			EventStatusReason: a.EventStatusReason, ResourceArn: a.ResourceArn, ResourceId: a.ResourceId,
			RecommendedActionId: a.RecommendedActionId, AccountId: a.AccountId, Region: a.Region, RuleId: a.RuleId,
			ResourceType: a.ResourceType, CreatedTimestamp: a.CreatedTimestamp, CompletedTimestamp: a.CompletedTimestamp,
			EstimatedMonthlySavings: a.EstimatedMonthlySavings,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eventAttrs are an event's values for an AutomationEventFilterName.
func eventAttrs(e *event, name api.AutomationEventFilterName) []string {
	switch name {
	case api.AutomationEventFilterNameAccountId:
		return []string{e.Account}
	case api.AutomationEventFilterNameResourceType:
		return []string{string(api.ResourceTypeEbsVolume)}
	case api.AutomationEventFilterNameEventType:
		return []string{string(e.Type)}
	case api.AutomationEventFilterNameEventStatus:
		return []string{string(e.Status)}
	}
	return nil
}

func eventMatches(e *event, filters []api.AutomationEventFilter) bool {
	for _, f := range filters {
		if !anyMatch(f.Values, eventAttrs(e, *f.Name)) {
			return false
		}
	}
	return true
}

func checkEventFilters(filters []api.AutomationEventFilter) error {
	for _, f := range filters {
		if err := checkFilterValues(f.Values); err != nil {
			return err
		}
	}
	return nil
}

// eventAccounts are the visible accounts an AccountId filter lets through.
func eventAccounts(accts []string, filters []api.AutomationEventFilter) []string {
	for _, f := range filters {
		if *f.Name != api.AutomationEventFilterNameAccountId {
			continue
		}
		var keep []string
		for _, a := range accts {
			if anyMatch(f.Values, []string{a}) {
				keep = append(keep, a)
			}
		}
		accts = keep
	}
	return accts
}

// streamEvents calls fn for the accounts' events created in [from, to),
// in key order (account, creation time), after the given key.
func streamEvents(tx store.Tx, accts []string, from, to time.Time, after string, fn func(*event) error) error {
	lo, hi := from.UTC().Format(createdLayout), to.UTC().Format(createdLayout)
	for _, acct := range accts {
		start := predecessor(acct + "/" + lo)
		if after > start {
			start = after
		}
		if start >= acct+"/"+hi {
			continue
		}
		err := store.ScanJSON(tx, bucketEvents, acct+"/", start, 0, func(k string, e *event) error {
			if k >= acct+"/"+hi {
				return store.ErrStop
			}
			return fn(e)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eventRange bounds a listing: the request's range within the last year.
func eventRange(now time.Time, start, end *time.Time) (time.Time, time.Time, error) {
	from, to := now.Add(-eventHistory), now.Add(time.Nanosecond)
	if start != nil && start.After(from) {
		from = *start
	}
	if end != nil && end.Before(to) {
		to = *end
	}
	if start != nil && end != nil && !start.Before(*end) {
		return from, to, invalid("startTimeInclusive must be before endTimeExclusive.")
	}
	return from, to, nil
}

// ListAutomationEvents lists the events of the last year the caller sees.
func (s *Service) ListAutomationEvents(ctx context.Context, in *api.ListAutomationEventsInput) (*api.ListAutomationEventsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkEventFilters(in.Filters); err != nil {
		return nil, err
	}
	out := &api.ListAutomationEventsOutput{AutomationEvents: []api.AutomationEvent{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		from, to, err := eventRange(s.clock.Now(), in.StartTimeInclusive, in.EndTimeExclusive)
		if err != nil {
			return err
		}
		_, accts, err := actionScope(tx, p.AccountID)
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListAutomationEvents/"+p.AccountID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		var last string
		err = streamEvents(tx, eventAccounts(accts, in.Filters), from, to, pg.after, func(e *event) error {
			if !eventMatches(e, in.Filters) {
				return nil
			}
			if len(out.AutomationEvents) == pg.limit {
				tok := pg.signer.Encode(pg.scope, last)
				out.NextToken = &tok
				return errPageFull
			}
			out.AutomationEvents = append(out.AutomationEvents, e.toAPI())
			last = e.key()
			return nil
		})
		if errors.Is(err, errPageFull) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAutomationEventSteps lists an event's steps in the order they ran.
func (s *Service) ListAutomationEventSteps(ctx context.Context, in *api.ListAutomationEventStepsInput) (*api.ListAutomationEventStepsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListAutomationEventStepsOutput{AutomationEventSteps: []api.AutomationEventStep{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		req, err := loadRequester(tx, p.AccountID)
		if err != nil {
			return err
		}
		if err := req.requireOptIn(); err != nil {
			return err
		}
		e, err := visibleEvent(tx, req, *in.EventId)
		if err != nil {
			return err
		}
		if e.Created.Before(s.clock.Now().Add(-eventHistory)) {
			return errEventNotFound(e.ID)
		}
		pg, err := newPager(tx, "ListAutomationEventSteps/"+e.ID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		keys := make([]string, len(e.Steps))
		for i := range e.Steps {
			keys[i] = fmt.Sprintf("%04d", i)
		}
		page, next := pg.window(keys)
		out.NextToken = next
		for _, k := range page {
			var i int
			fmt.Sscanf(k, "%d", &i)
			out.AutomationEventSteps = append(out.AutomationEventSteps, e.Steps[i].toAPI(e.ID))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAutomationEventSummaries totals the events of the last year per
// month (UTC) of creation and event status, as the console's monthly
// events summary groups them (automation-events.html): each summary names
// its month as key ("2026-05") and time period, its status as dimension;
// savings count only Complete and RollbackComplete events.
func (s *Service) ListAutomationEventSummaries(ctx context.Context, in *api.ListAutomationEventSummariesInput) (*api.ListAutomationEventSummariesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkEventFilters(in.Filters); err != nil {
		return nil, err
	}
	parseDate := func(name string, v *string) (*time.Time, error) {
		if v == nil {
			return nil, nil
		}
		t, err := time.Parse(time.DateOnly, *v)
		if err != nil {
			return nil, invalid("%s %q is not a date (YYYY-MM-DD).", name, *v)
		}
		return &t, nil
	}
	start, err := parseDate("startDateInclusive", in.StartDateInclusive)
	if err != nil {
		return nil, err
	}
	end, err := parseDate("endDateExclusive", in.EndDateExclusive)
	if err != nil {
		return nil, err
	}
	out := &api.ListAutomationEventSummariesOutput{AutomationEventSummaries: []api.AutomationEventSummary{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		from, to, err := eventRange(s.clock.Now(), start, end)
		if err != nil {
			return err
		}
		_, accts, err := actionScope(tx, p.AccountID)
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListAutomationEventSummaries/"+p.AccountID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		type total struct {
			day    time.Time
			status api.EventStatus
			count  int32
			amount float64
		}
		totals := map[string]*total{}
		err = streamEvents(tx, eventAccounts(accts, in.Filters), from, to, "", func(e *event) error {
			if !eventMatches(e, in.Filters) {
				return nil
			}
			c := e.Created.UTC()
			day := time.Date(c.Year(), c.Month(), 1, 0, 0, 0, 0, time.UTC)
			k := day.Format("2006-01") + "/" + string(e.Status)
			t := totals[k]
			if t == nil {
				t = &total{day: day, status: e.Status}
				totals[k] = t
			}
			t.count++
			if e.Status == api.EventStatusComplete || e.Status == api.EventStatusRollbackComplete {
				t.amount += e.Savings
			}
			return nil
		})
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(totals))
		for k := range totals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		page, next := pg.window(keys)
		out.NextToken = next
		for _, k := range page {
			t := totals[k]
			out.AutomationEventSummaries = append(out.AutomationEventSummaries, api.AutomationEventSummary{
				Key:        ptr(t.day.Format("2006-01")),
				Dimensions: []api.SummaryDimension{{Key: ptr(api.SummaryDimensionKeyEventStatus), Value: ptr(string(t.status))}},
				TimePeriod: &api.TimePeriod{StartTimeInclusive: ptr(t.day), EndTimeExclusive: ptr(t.day.AddDate(0, 1, 0))},
				Total:      &api.SummaryTotals{AutomationEventCount: ptr(t.count), EstimatedMonthlySavings: savings(t.amount)},
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RollbackAutomationEvent undoes a completed event: a deleted volume is
// created again from the event's snapshot (with a new id and its user
// tags), an upgraded volume is modified back.
func (s *Service) RollbackAutomationEvent(ctx context.Context, in *api.RollbackAutomationEventInput) (*api.RollbackAutomationEventOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	var out *api.RollbackAutomationEventOutput
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		out, err = idempotent(tx, now, p.AccountID, "RollbackAutomationEvent", in.ClientToken, in, func() (*api.RollbackAutomationEventOutput, error) {
			req, err := loadRequester(tx, p.AccountID)
			if err != nil {
				return nil, err
			}
			if err := req.requireOptIn(); err != nil {
				return nil, err
			}
			e, err := visibleEvent(tx, req, *in.EventId)
			if err != nil {
				return nil, err
			}
			if err := startRollback(tx, e, now); err != nil {
				return nil, err
			}
			return &api.RollbackAutomationEventOutput{EventId: ptr(e.ID), EventStatus: ptr(e.Status)}, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return out, nil
}

// startRollback checks that an event can be undone and enqueues its
// rollback step.
func startRollback(tx store.Tx, e *event, now time.Time) error {
	if e.Status != api.EventStatusComplete {
		return invalid("Only a completed automation event can be rolled back; %s is %s.", e.ID, e.Status)
	}
	switch e.Type {
	case api.EventTypeSnapshotAndDeleteUnattachedEbsVolume:
		snap, err := inventory.GetSnapshot(tx, e.Snapshot)
		if errors.Is(err, inventory.ErrNotFound) || (err == nil && snap.State != "completed") {
			return invalid("The snapshot %s that the event took was deleted, so the volume cannot be restored.", e.Snapshot)
		}
		if err != nil {
			return err
		}
		e.Plan = []api.StepType{api.StepTypeCreateEbsVolume}
	default:
		v, err := inventory.GetVolume(tx, e.VolumeID)
		if errors.Is(err, inventory.ErrNotFound) || (err == nil && v.State == inventory.StateDeleted) {
			return invalid("The volume %s was deleted after the event, so its change cannot be rolled back.", e.VolumeID)
		}
		if err != nil {
			return err
		}
		if configOf(v) != *e.After || v.EventID != "" {
			return invalid("The volume %s changed after the event completed, so the event cannot be rolled back.", e.VolumeID)
		}
		v.EventID = e.ID
		if err := inventory.PutVolume(tx, v); err != nil {
			return err
		}
		e.Plan = []api.StepType{api.StepTypeModifyEbsVolume}
	}
	e.Status, e.Reason, e.Completed = api.EventStatusRollbackReady, "", time.Time{}
	if err := putEvent(tx, e); err != nil {
		return err
	}
	_, err := enqueueStep(tx, e.ID, now)
	return err
}
