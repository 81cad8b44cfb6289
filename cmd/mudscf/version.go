package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"

	"github.com/prometheus/common/version"
)

func versionCommand(*flag.FlagSet) action {
	return func(_ context.Context, stdout io.Writer, _ *slog.Logger) error {
		printVersion(stdout)
		return nil
	}
}

func printVersion(w io.Writer) {
	fmt.Fprintln(w, version.Print("mudscf"))
}

// versionFromBuildInfo fills what no -X flag stamped of
// prometheus/common/version's variables from the build info the go command
// records in every binary, so that `go build` and `go install` binaries
// say what they are: the main module's version (v1.2.3 from go install
// module@v1.2.3; a pseudo-version with +dirty from a build in a git
// checkout; "(devel)" without version control) and the commit's time. The
// version package reads the revision (vcs.revision, -modified when
// vcs.modified) itself.
func versionFromBuildInfo(bi *debug.BuildInfo) {
	if version.Version == "" {
		version.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.time" && version.BuildDate == "" {
			version.BuildDate = s.Value
		}
	}
}
