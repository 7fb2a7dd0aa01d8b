package main

import (
	"fmt"
	"io"

	"github.com/logsift/logsift/ruletest"
)

const testSynopsis = `logsift test FILE...

Runs rule unit tests. Each FILE names its rules with config: (a
configuration file, relative to FILE) or inline with rules:, use:, disable:
and inputs: (the first input's prefix and multiline apply), and lists
tests:, each with name, input and expect: {forwarded: "exact text",
suppressed: {RULE: EVENTS}} (rules not listed must suppress nothing; a
left-out forwarded is not checked). Failures show a diff of the forwarded
text and how each event was settled; the last line reports which rules no
test exercised. Exit status 1 if any test fails.`

func cmdTest(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("test", testSynopsis, stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "logsift test: no test files given")
		fs.Usage()
		return exitUsage
	}
	if !ruletest.RunFiles(stdout, fs.Args()) {
		return exitFailure
	}
	return exitOK
}
