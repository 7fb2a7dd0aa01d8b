package metrics

import (
	"runtime"
	"runtime/debug"
)

// BuildInfo identifies the running binary in logsift_build_info and in
// `logsift version`.
type BuildInfo struct {
	Version   string
	Revision  string
	GoVersion string
}

// ReadBuildInfo returns version and revision as given (typically set with
// -ldflags -X at release time) and fills blanks from the information the Go
// toolchain embeds in the binary, so a plain `go build` or `go install`
// still reports something an operator can trace back to a commit.
func ReadBuildInfo(version, revision string) BuildInfo {
	bi := BuildInfo{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		fillFromModule(&bi, info)
	}
	if bi.Version == "" {
		bi.Version = "unknown"
	}
	if bi.Revision == "" {
		bi.Revision = "unknown"
	}
	return bi
}

func fillFromModule(bi *BuildInfo, info *debug.BuildInfo) {
	// "(devel)" is what the toolchain reports for a build from a work
	// tree; it says nothing more than "unknown" would.
	if bi.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		bi.Version = info.Main.Version
	}
	if bi.Revision != "" {
		return
	}
	var rev string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "-dirty"
	}
	bi.Revision = rev
}
