package organizations

import (
	"testing"
	"time"
)

func TestHandshakeLifecycleOnTheClock(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	open := handshake{State: "OPEN", RequestedAt: sent, ExpiresAt: sent.Add(inviteLifetime)}
	declined := handshake{State: "DECLINED", RequestedAt: sent, ExpiresAt: sent.Add(inviteLifetime), ClosedAt: sent.Add(time.Hour)}
	for _, tc := range []struct {
		name    string
		h       handshake
		at      time.Time
		state   string
		isOpen  bool
		visible bool
	}{
		{"fresh", open, sent, "OPEN", true, true},
		{"a moment before expiry", open, sent.Add(inviteLifetime - time.Nanosecond), "OPEN", true, true},
		{"at expiry", open, sent.Add(inviteLifetime), "EXPIRED", false, true},
		{"expired 30 days ago, less a moment", open, sent.Add(inviteLifetime + closedHandshakeWindow - time.Nanosecond), "EXPIRED", false, true},
		{"expired 30 days ago", open, sent.Add(inviteLifetime + closedHandshakeWindow), "EXPIRED", false, false},
		{"declined, within 30 days", declined, sent.Add(time.Hour + closedHandshakeWindow - time.Nanosecond), "DECLINED", false, true},
		{"declined 30 days ago", declined, sent.Add(time.Hour + closedHandshakeWindow), "DECLINED", false, false},
		// A closed handshake does not turn EXPIRED when its deadline passes.
		{"declined, past the deadline", declined, sent.Add(inviteLifetime + time.Hour), "DECLINED", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := tc.h
			if got := h.effectiveState(tc.at); got != tc.state {
				t.Errorf("effectiveState = %s, want %s", got, tc.state)
			}
			if got := h.open(tc.at); got != tc.isOpen {
				t.Errorf("open = %v, want %v", got, tc.isOpen)
			}
			if got := h.visible(tc.at); got != tc.visible {
				t.Errorf("visible = %v, want %v", got, tc.visible)
			}
		})
	}
}
