package rules

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"1024", 1024, false},
		{"0", 0, false},
		{"512B", 512, false},
		{"64KiB", 64 << 10, false},
		{"64 KiB", 64 << 10, false},
		{"1MiB", 1 << 20, false},
		{"1GiB", 1 << 30, false},
		{"10KB", 10_000, false},
		{"10kB", 10_000, false},
		{"2MB", 2_000_000, false},
		{"1GB", 1_000_000_000, false},
		{" 7 ", 7, false},
		{"", 0, true},
		{"KiB", 0, true},
		{"1.5MiB", 0, true},
		{"-1", 0, true},
		{"+1", 0, true},
		{"1_000", 0, true},
		{"64K", 0, true},
		{"64kib", 0, true},
		{"1 TiB", 0, true},
		{"0x10", 0, true},
		{"9223372036854775807", 9223372036854775807, false},
		{"9223372036854775808", 0, true},
		{"9999999999GiB", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"250ms", 250 * time.Millisecond, false},
		{"2s", 2 * time.Second, false},
		{"1m30s", 90 * time.Second, false},
		{"0", 0, false},
		{"0s", 0, false},
		{"-1s", -time.Second, false},
		{"250", 0, true},
		{"1 minute", 0, true},
		{"1d", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestValueRanges checks the bounds applied on top of the syntax.
func TestValueRanges(t *testing.T) {
	tests := []struct {
		src     string
		wantErr bool
	}{
		{"summary: {every: 0s}", false},
		{"summary: {every: -1s}", true},
		{"inputs: [{paths: [-], multiline: {flush_after: 1ms}}]", false},
		{"inputs: [{paths: [-], multiline: {flush_after: 0s}}]", true},
		{"inputs: [{paths: [-], multiline: {max_lines: 1}}]", false},
		{"inputs: [{paths: [-], multiline: {max_lines: 0}}]", true},
		{"inputs: [{paths: [-], multiline: {max_lines: 1.5}}]", true},
		{"inputs: [{paths: [-], multiline: {max_bytes: 1}}]", false},
		{"inputs: [{paths: [-], multiline: {max_bytes: 0}}]", true},
		{"rules: [{name: r, match: {contains: x}, sample: 0}]", false},
		{"rules: [{name: r, match: {contains: x}, sample: -1}]", true},
		{"rules: [{name: r, match: {contains: x}, pair: {match: {contains: y}, within: 1, max_wait: 1ms}}]", false},
		{"rules: [{name: r, match: {contains: x}, pair: {match: {contains: y}, within: 0}}]", true},
		{"rules: [{name: r, match: {contains: x}, pair: {match: {contains: y}, max_wait: 0s}}]", true},
		{"rules: [{name: r, match: {contains: x}, expires: 2027-02-30}]", true},
		{"rules: [{name: r, match: {contains: x}, expires: '2027-02-28'}]", false},
		{"metrics: {listen: ':9468'}", false},
		{"metrics: {listen: 'localhost'}", true},
		{"metrics: {listen: 'localhost:'}", true},
	}
	for _, tt := range tests {
		_, err := parseString(t, tt.src)
		if (err != nil) != tt.wantErr {
			t.Errorf("parse(%q): err = %v, want error %v", tt.src, err, tt.wantErr)
		}
	}
}
