package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// cmdManpage writes logsift(1) in roff, made of the commands' own help so
// that the page cannot drift from the program. The packages install it.
func cmdManpage(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("manpage", "logsift manpage", stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if code, ok := noArgs(fs, stderr); !ok {
		return code
	}
	var b strings.Builder
	b.WriteString(".TH LOGSIFT 1 \"\" \"logsift\" \"User Commands\"\n")
	b.WriteString(".SH NAME\nlogsift \\- filter known-harmless errors out of logs as whole events\n")
	b.WriteString(".SH SYNOPSIS\n")
	overview := strings.TrimSpace(usage)
	head, rest, _ := strings.Cut(overview, "Usage:\n")
	lines, _, _ := strings.Cut(rest, "\n\n")
	for _, l := range strings.Split(lines, "\n") {
		fmt.Fprintf(&b, ".nf\n%s\n.fi\n", roff(strings.TrimSpace(l)))
	}
	fmt.Fprintf(&b, ".SH DESCRIPTION\n%s\n", roff(strings.TrimSpace(head)))
	b.WriteString("It reads application logs (files, following them across rotation, or stdin), drops " +
		"errors its rules describe as harmless as whole multi-line events, counts every suppression as a " +
		"Prometheus metric, and forwards everything else byte for byte, in order.\n")
	b.WriteString(".SH COMMANDS\n")
	for _, cmd := range []string{"run", "check", "exec", "test", "replay", "rules", "version"} {
		var help bytes.Buffer
		run([]string{cmd, "-h"}, nil, &help, &help)
		fmt.Fprintf(&b, ".SS %s\n.nf\n%s\n.fi\n", cmd, roff(strings.TrimRight(help.String(), "\n")))
	}
	b.WriteString(".SH EXIT STATUS\n0 success; 1 a runtime or validation failure; 2 a usage error.\n")
	b.WriteString(".SH SIGNALS\nSIGHUP reloads the configuration; SIGUSR1 reopens output files; " +
		"SIGTERM and SIGINT stop after the outputs took what was read.\n")
	b.WriteString(".SH FILES\n.TP\n/etc/logsift/logsift.yaml\nthe service's configuration\n" +
		".TP\n/usr/share/logsift/\nPrometheus alert rules and a Grafana dashboard\n")
	b.WriteString(".SH SEE ALSO\n/usr/share/doc/logsift/README.md\n")
	_, err := io.WriteString(stdout, b.String())
	if err != nil {
		return exitFailure
	}
	return exitOK
}

// roff escapes text for a man page: backslashes, and a leading dot or quote.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		out = append(out, strings.ReplaceAll(l, "-", `\-`))
	}
	return strings.Join(out, "\n")
}
