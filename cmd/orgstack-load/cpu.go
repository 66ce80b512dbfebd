package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// On a machine that other work shares, throughput swings with the others'
// load, but the CPU time a request costs hardly moves. So each run also
// measures the CPU time this process (the clients, and the bare handler
// of a baseline run) and the orgstack processes named by --server-pid
// spent, and the report divides it by the operations done: the ratio of
// the bare handler's CPU per operation to orgstack's is the throughput
// ratio that a machine of its own would show while the CPUs are the limit.

// cpuClock reads the CPU time of this process and of other processes.
type cpuClock struct {
	pids []int
}

// cpuTimes is a reading of a cpuClock.
type cpuTimes struct {
	self, others time.Duration
}

func (c cpuClock) read() (cpuTimes, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuTimes{}, err
	}
	t := cpuTimes{self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	for _, pid := range c.pids {
		d, err := processCPU(pid)
		if err != nil {
			return cpuTimes{}, err
		}
		t.others += d
	}
	return t, nil
}

func (t cpuTimes) sub(u cpuTimes) cpuTimes {
	return cpuTimes{self: t.self - u.self, others: t.others - u.others}
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// processCPU reads the user and system CPU time of a process from
// /proc/<pid>/stat (Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("--server-pid %d: %w", pid, err)
	}
	// The command name, in parentheses, may hold spaces: count the
	// fields after its closing parenthesis. utime and stime are fields
	// 14 and 15 of the line, 12 and 13 after the parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("--server-pid %d: unexpected /proc/%d/stat", pid, pid)
	}
	var ticks int64
	for _, x := range f[11:13] {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("--server-pid %d: /proc/%d/stat: %w", pid, pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

func parsePIDs(s string) ([]int, error) {
	var pids []int
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--server-pid: %q is not a process id", p)
		}
		pids = append(pids, n)
	}
	return pids, nil
}
