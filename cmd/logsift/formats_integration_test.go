package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRecordFormatsObserved follows a Docker json-file log and a JSON
// logger's file with broken records under one auto input, and checks what
// an operator sees: one INFO line per source naming the detected format,
// the per-format source gauge, the parse error counter, and the forwarded
// bytes of each file unchanged and in order.
func TestRecordFormatsObserved(t *testing.T) {
	dir := t.TempDir()
	docker, err := os.ReadFile(filepath.Join(corpusDir, "i_py313_extras.docker-json.log"))
	if err != nil {
		t.Fatal(err)
	}
	dockerWant, err := os.ReadFile(filepath.Join(corpusDir, "i_py313_extras.docker-json.expected.log"))
	if err != nil {
		t.Fatal(err)
	}
	// Every JSON logger line carries "jsonfile" so its lines can be picked
	// out of the merged output; three of them are not valid records.
	jsonLog := strings.Join([]string{
		`{"msg": "jsonfile started", "levelname": "INFO"}`,
		`{"msg": "jsonfile truncated record`,
		"{\"msg\": \"jsonfile bad utf8 \xff\xfe\", \"levelname\": \"INFO\"}",
		`{"msg": "jsonfile trailing junk"} jsonfile`,
		"{\"msg\": \"jsonfile NUL \\u0000 escaped\", \"n\": 1}",
		`not json at all, jsonfile`,
		`{"msg": "jsonfile last"}`,
	}, "\n") + "\n"
	dockerPath := filepath.Join(dir, "container-json.log")
	jsonPath := filepath.Join(dir, "app.json")
	if err := os.WriteFile(dockerPath, docker, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsonPath, []byte(jsonLog), 0o644); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(dir, "filtered.log")
	addr := freePort(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
inputs:
  - name: app
    paths: [%q, %q]
    start_at: beginning
outputs:
  - {type: file, name: filtered, path: %q}
metrics: {listen: %q}
`, dockerPath, jsonPath, outPath, addr))
	d := startDaemon(t, cfg)

	in := map[string]string{"input": "app"}
	total := float64(bytes.Count(docker, []byte("\n")) + strings.Count(jsonLog, "\n"))
	var body []byte
	waitFor(t, "all lines read and released", 30*time.Second, func() bool {
		code, _ := httpStatus(addr, "/healthz")
		if code != 200 {
			return false
		}
		_, fams := scrape(t, addr)
		return sum(fams, "logsift_input_lines_total", in) == total && sum(fams, "logsift_input_held_lines", in) == 0
	})
	body, fams := scrape(t, addr)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"logsift_input_sources", map[string]string{"input": "app", "format": "docker-json"}, 1},
		{"logsift_input_sources", map[string]string{"input": "app", "format": "json"}, 1},
		{"logsift_input_sources", map[string]string{"input": "app", "format": "text"}, 0},
		{"logsift_input_sources", map[string]string{"input": "app", "format": "cri"}, 0},
		// The truncated record, the record with trailing junk and the
		// line that is not JSON; invalid UTF-8 inside a string is kept
		// as bytes, not an error.
		{"logsift_input_parse_errors_total", map[string]string{"input": "app", "format": "json"}, 3},
		{"logsift_input_parse_errors_total", map[string]string{"input": "app", "format": "docker-json"}, 0},
	} {
		if got := sum(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if !bytes.Contains(body, []byte("logsift_input_parse_errors_total")) {
		t.Error("scrape has no logsift_input_parse_errors_total")
	}
	d.stop(t)

	stderr := d.stderr.String()
	for _, want := range []string{
		fmt.Sprintf(`msg="record format detected" input=app path=%s format=docker-json`, dockerPath),
		fmt.Sprintf(`msg="record format detected" input=app path=%s format=json`, jsonPath),
	} {
		if strings.Count(stderr, want) != 1 {
			t.Errorf("stderr does not say once %q:\n%s", want, stderr)
		}
	}

	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	var gotDocker, gotJSON []byte
	for _, l := range bytes.SplitAfter(out, []byte("\n")) {
		if bytes.Contains(l, []byte("jsonfile")) {
			gotJSON = append(gotJSON, l...)
		} else {
			gotDocker = append(gotDocker, l...)
		}
	}
	if string(gotJSON) != jsonLog {
		t.Errorf("JSON logger lines changed:\n got %q\nwant %q", gotJSON, jsonLog)
	}
	if !bytes.Equal(gotDocker, dockerWant) {
		t.Errorf("docker json-file lines: got %d bytes, want the %d bytes of the expected output", len(gotDocker), len(dockerWant))
	}
}

// TestReplayFormat replays the container captures with -format: the
// runtime's framing is decoded when it is named (or detected), and left
// alone as text when text is asked for.
func TestReplayFormat(t *testing.T) {
	for _, tc := range []struct {
		file, format string
		removes      bool
	}{
		{"i_py313_extras.docker-json", "docker-json", true},
		{"i_py313_extras.docker-json", "auto", true},
		{"i_py313_extras.docker-json", "text", false},
		{"i_py313_extras.cri", "cri", true},
		{"i_py313_extras.cri", "text", false},
		{"j_py313_json", "json", true},
		{"j_py313_json", "text", false},
	} {
		t.Run(tc.file+"/"+tc.format, func(t *testing.T) {
			log := filepath.Join(corpusDir, tc.file+".log")
			input, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			r := logsift(t, "", nil, "replay", "-format", tc.format, "-show", "forwarded", log)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			want := input
			if tc.removes {
				if want, err = os.ReadFile(filepath.Join(corpusDir, tc.file+".expected.log")); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(r.stdout, want) {
				t.Errorf("forwarded %d bytes, want %d (the %s)", len(r.stdout), len(want),
					map[bool]string{true: "expected output", false: "input unchanged"}[tc.removes])
			}
		})
	}
	r := logsift(t, "", nil, "replay", "-format", "xml", filepath.Join(corpusDir, "j_py313_json.log"))
	if r.code != 2 || !bytes.Contains(r.stderr, []byte(`-format "xml"`)) {
		t.Errorf("bad -format: exit %d, stderr %q", r.code, r.stderr)
	}
}
