// Package prometheus_test checks the alerting rules shipped for operators
// with promtool, as Prometheus itself will load them.
package prometheus_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/logsift/logsift/internal/promtest"
)

func promtool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(promtest.Promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestAlertRulesAreValid(t *testing.T) {
	out := promtool(t, "check", "rules", "alerts.yml")
	if !strings.Contains(out, "SUCCESS: 7 rules found") {
		t.Errorf("promtool check rules: want 7 rules, got:\n%s", out)
	}
}

func TestAlertRulesUnitTests(t *testing.T) {
	promtool(t, "test", "rules", "alerts_test.yml")
}
