package inventory

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Update strategies (cluster.updates.strategy).
const (
	UpdatesWindows = "windows"
	UpdatesOff     = "off"
)

// Update window defaults: every day from 02:00 UTC, 30 minutes per host,
// and as long a gap before the next host's window, so a reboot and etcd's
// rejoin end long before the next master may reboot.
const (
	DefaultWindowStart  = 2 * 60 // minutes after 00:00 UTC
	DefaultWindowLength = 30     // minutes
	// MinWindowGap is the least time between two hosts' windows: a master
	// that starts its reboot at the end of its window is back, with its etcd
	// member healthy, before the next one may go.
	MinWindowGap = 15
)

const minutesPerDay, minutesPerWeek = 24 * 60, 7 * 24 * 60

// weekdays are the names a window's days take, Monday first (as Zincati
// and locksmith spell them).
var weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// Slot is one host's update window: on Days (Monday = 0; empty means every
// day), from Start minutes after 00:00 UTC, for Length minutes. A window
// may run past midnight into the next day.
type Slot struct {
	Days   []int
	Start  int
	Length int
}

// Daily reports whether the window opens every day.
func (s Slot) Daily() bool { return len(s.Days) == 0 || len(s.Days) == 7 }

// DayNames are the window's days as Mon..Sun; nil for every day.
func (s Slot) DayNames() []string {
	if s.Daily() {
		return nil
	}
	var out []string
	for _, d := range s.Days {
		out = append(out, weekdays[d])
	}
	return out
}

// EveryDayName is DayNames with every day spelt out for a daily window, as
// Zincati's days list wants it.
func (s Slot) EveryDayName() []string {
	if s.Daily() {
		return slices.Clone(weekdays)
	}
	return s.DayNames()
}

// HHMM is the window's start as HH:MM.
func (s Slot) HHMM() string { return fmt.Sprintf("%02d:%02d", s.Start/60, s.Start%60) }

func (s Slot) String() string {
	days := "every day"
	if !s.Daily() {
		days = strings.Join(s.DayNames(), ",")
	}
	return fmt.Sprintf("%s %s UTC for %dm", days, s.HHMM(), s.Length)
}

// intervals are the window's openings in minutes of the week, [from, to),
// with to possibly past the week's end (it wraps).
func (s Slot) intervals() [][2]int {
	days := s.Days
	if s.Daily() {
		days = []int{0, 1, 2, 3, 4, 5, 6}
	}
	var out [][2]int
	for _, d := range days {
		from := d*minutesPerDay + s.Start
		out = append(out, [2]int{from, from + s.Length})
	}
	return out
}

// gap is the least time, in minutes, from the end of one window's opening
// to the start of the other's (either way round); negative when they overlap.
func gap(a, b Slot) int {
	best := minutesPerWeek
	for _, x := range a.intervals() {
		for _, y := range b.intervals() {
			for _, shift := range []int{-minutesPerWeek, 0, minutesPerWeek} {
				y0, y1 := y[0]+shift, y[1]+shift
				g := max(y0-x[1], x[0]-y1)
				best = min(best, g)
			}
		}
	}
	return best
}

// windowProblem is one bad field of a window, by its name below the window.
type windowProblem struct{ field, msg string }

// given reports whether the window was written at all.
func (w Window) given() bool { return w.Start != "" || w.Days != nil || w.Length != "" }

// parseWindow reads w over base (the days and length a host's window
// takes from the cluster's). Problems are returned by field name.
func parseWindow(w Window, base Slot) (Slot, []windowProblem) {
	s := base
	var problems []windowProblem
	add := func(field, format string, a ...any) {
		problems = append(problems, windowProblem{field, fmt.Sprintf(format, a...)})
	}
	if w.Days != nil {
		s.Days = nil
		for i, d := range w.Days {
			n := slices.IndexFunc(weekdays, func(x string) bool { return strings.EqualFold(x, d) })
			switch {
			case n < 0 || weekdays[n] != d:
				add(fmt.Sprintf("days[%d]", i), "%q is not a weekday (one of %s)%s", clip(d), strings.Join(weekdays, ", "), didYouMean(d, weekdays))
			case slices.Contains(s.Days, n):
				add(fmt.Sprintf("days[%d]", i), "%s is listed twice", weekdays[n])
			default:
				s.Days = append(s.Days, n)
			}
		}
		slices.Sort(s.Days)
	}
	if w.Start != "" {
		t, err := time.Parse("15:04", w.Start)
		if err != nil || len(w.Start) != 5 {
			add("start", "%q is not a time of day HH:MM (24-hour, UTC), e.g. 02:00", clip(w.Start))
		} else {
			s.Start = t.Hour()*60 + t.Minute()
		}
	}
	if w.Length != "" {
		d, err := time.ParseDuration(w.Length)
		switch {
		case err != nil:
			add("length", "%q is not a duration such as 30m or 1h", clip(w.Length))
		case d%time.Minute != 0 || d < 15*time.Minute || d > 12*time.Hour:
			add("length", "%s: a window is whole minutes, from 15m to 12h", d)
		default:
			s.Length = int(d / time.Minute)
		}
	}
	return s, problems
}

// ClusterWindow is the first host's window of cluster.updates.window, with
// defaults, and its problems in field order.
func ClusterWindow(u Updates) (Slot, []windowProblem) {
	return parseWindow(u.Window, Slot{Start: DefaultWindowStart, Length: DefaultWindowLength})
}

// DerivedSlotsFit reports how many hosts the derived daily windows of u
// hold: 24 hours over twice the window's length. For windows on some
// weekdays the derived slots move through the week and hold seven times
// as many.
func DerivedSlotsFit(u Updates) int {
	base, _ := ClusterWindow(u)
	n := minutesPerDay / (2 * base.Length)
	if !base.Daily() {
		n *= 7
	}
	return n
}

// UpdateSlots returns every host's update window, in host order: a host
// with its own updateWindow.start gets that window (days and length from
// the cluster's unless given), the others get the cluster window moved by
// twice its length for each host before them (each window, then a gap as
// long). ok is false when a window could not be read.
func UpdateSlots(inv *Inventory) (slots []Slot, ok bool) {
	base, problems := ClusterWindow(inv.Cluster.Updates)
	ok = len(problems) == 0
	for i, h := range inv.Hosts {
		// Each host's window follows the one before after a gap as long.
		// Daily windows wrap within the day (past one day's worth the
		// slots come round again: DerivedSlotsFit); windows on some
		// weekdays move on to the next day when they pass midnight.
		s := base
		at := base.Start + 2*i*base.Length
		s.Start = at % minutesPerDay
		if !base.Daily() {
			s.Days = nil
			for _, d := range base.Days {
				s.Days = append(s.Days, (d+at/minutesPerDay)%7)
			}
			slices.Sort(s.Days)
		}
		if h.UpdateWindow.given() {
			own, p := parseWindow(h.UpdateWindow, Slot{Days: base.Days, Start: s.Start, Length: base.Length})
			s, ok = own, ok && len(p) == 0
		}
		slots = append(slots, s)
	}
	return slots, ok
}
