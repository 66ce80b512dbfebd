package main

import (
	"io"
	"testing"

	"github.com/orgstack/orgstack/internal/throttle"
)

func TestThrottleFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want throttle.Limit
	}{
		{"unset", nil, "", throttle.Limit{}},
		{"flag", []string{"--throttle", "20/s"}, "", throttle.Limit{Rate: 20, Burst: 20}},
		{"environment", nil, "5/s,10", throttle.Limit{Rate: 5, Burst: 10}},
		{"flag wins", []string{"--throttle", "off"}, "5/s", throttle.Limit{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				if k == "ORGSTACK_THROTTLE" {
					return tc.env
				}
				return ""
			}
			cfg, err := parseConfig(append([]string{"--data-dir", ":memory:"}, tc.args...), getenv, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Throttle != tc.want {
				t.Errorf("throttle = %+v, want %+v", cfg.Throttle, tc.want)
			}
		})
	}
	if _, err := parseConfig([]string{"--throttle", "fast"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("--throttle fast accepted")
	}
}
