package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// sizeUnits are the suffixes parseSize accepts: binary units as written by
// Kubernetes and Docker, decimal ones as written by Vector.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10},
	{"MiB", 1 << 20},
	{"GiB", 1 << 30},
	{"KB", 1000},
	{"kB", 1000},
	{"MB", 1000 * 1000},
	{"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// parseSize reads a byte count: a plain integer, or an integer followed
// (optionally after a space) by B, KiB, MiB, GiB, KB, MB or GB.
func parseSize(s string) (int, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	bad := fmt.Errorf("invalid size %q (want an integer number of bytes, optionally with a unit: KiB, MiB, GiB, KB, MB, GB)", s)
	if num == "" || strings.ContainsAny(num, "+-_ ") {
		return 0, bad
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return 0, bad
	}
	if n > math.MaxInt/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int(n * mult), nil
}

// parseDuration reads a Go duration ("250ms", "2s", "1m30s"). A bare 0 is
// accepted as zero, as time.ParseDuration does.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want Go syntax such as 250ms, 2s or 1m)", s)
	}
	return d, nil
}
