package rules

import (
	"bytes"
	"regexp"
)

// Matcher tests an event's match view: its lines joined, each with its
// '\n', carriage returns and line prefixes stripped, so that `(?m)^...$`
// anchors work per line. Match must not retain or modify event, and
// allocates nothing.
type Matcher interface {
	Match(event []byte) bool
}

// containsMatcher holds when any of its needles occurs in the event.
type containsMatcher struct {
	needles [][]byte
}

func newContains(needles []string) containsMatcher {
	m := containsMatcher{needles: make([][]byte, len(needles))}
	for i, n := range needles {
		m.needles[i] = []byte(n)
	}
	return m
}

func (m containsMatcher) Match(event []byte) bool { return containsAny(event, m.needles) }

// regexMatcher runs its regexp only on events that contain one of the
// literals every match needs; on most log lines the cheap substring scan
// already says no.
type regexMatcher struct {
	re       *regexp.Regexp
	literals [][]byte // nil: no prefilter, always run re
}

func newRegex(re *regexp.Regexp) regexMatcher {
	m := regexMatcher{re: re}
	for _, l := range requiredLiterals(re.String()) {
		m.literals = append(m.literals, []byte(l))
	}
	return m
}

func (m regexMatcher) Match(event []byte) bool {
	if m.literals != nil && !containsAny(event, m.literals) {
		return false
	}
	return m.re.Match(event)
}

func containsAny(b []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(b, n) {
			return true
		}
	}
	return false
}

type notMatcher struct{ m Matcher }

func (m notMatcher) Match(event []byte) bool { return !m.m.Match(event) }

// anyMatcher holds when one of its members does.
type anyMatcher []Matcher

func (m anyMatcher) Match(event []byte) bool {
	for _, sub := range m {
		if sub.Match(event) {
			return true
		}
	}
	return false
}

// allMatcher holds when all of its members do; they are ordered cheapest
// first so that most events are rejected by a substring scan.
type allMatcher []Matcher

func (m allMatcher) Match(event []byte) bool {
	for _, sub := range m {
		if !sub.Match(event) {
			return false
		}
	}
	return true
}
