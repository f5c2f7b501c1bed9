package buildinfo

import "testing"

func TestInfo_String(t *testing.T) {
	tests := []struct {
		name string
		info Info
		want string
	}{
		{name: "release", info: Info{Version: "v1.2.0", Commit: "08539aa9f2b0c1d2e3f4", GoVersion: "go1.26.8"},
			want: "v1.2.0 (commit 08539aa9f2b0, go1.26.8)"},
		{name: "dirty tree", info: Info{Version: "dev", Commit: "08539aa9f2b0c1d2e3f4", Modified: true, GoVersion: "go1.26.8"},
			want: "dev (commit 08539aa9f2b0, dirty, go1.26.8)"},
		{name: "no commit", info: Info{Version: "v1.2.0", GoVersion: "go1.26.8"}, want: "v1.2.0 (go1.26.8)"},
		{name: "short commit", info: Info{Version: "dev", Commit: "abc123", GoVersion: "go1.26.8"}, want: "dev (commit abc123, go1.26.8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.info.String(); got != tt.want {
				t.Errorf("%q, want %q", got, tt.want)
			}
		})
	}
}

// The -ldflags variables win; without them the toolchain's stamp is used,
// and "dev" is what is left.
func TestRead_LdflagsWin(t *testing.T) {
	i := Read("v9.9.9", "feedface")
	if i.Version != "v9.9.9" || i.Commit != "feedface" || i.GoVersion == "" {
		t.Errorf("%+v", i)
	}
	if i := Read("", ""); i.Version == "" {
		t.Errorf("no version: %+v", i)
	}
}
