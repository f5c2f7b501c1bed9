package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// exampleOverlay is the overlay a user copies.
const exampleOverlay = "overlays/example"

// unset is the value of every field of base/ and purge/ an overlay must set.
const unset = "set-in-overlay"

// purgeLine is the example overlay's line that applies the sharded purge,
// as shipped (commented out) and as a user enables it.
const purgeLine, purgeEnabled = "# - ../../purge", "- ../../purge"

// overlay is the example overlay with changes, in memory beside copies of
// the directories it builds on, as a user's copy of it would be.
type overlay struct {
	purge    bool   // purgeLine uncommented
	settings string // settings.yaml instead of the example's
}

// render builds o as `kubectl kustomize` does, with the kustomize library
// kubectl embeds (the same output as kubectl's kustomize v5.5 here): the
// test then needs no kubectl, and no kubectl recent enough for components.
func (o overlay) render(t *testing.T) []byte {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	for _, d := range []string{"base", "purge", "components/settings", exampleOverlay} {
		files, err := filepath.Glob(filepath.Join(d, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no files (%v)", d, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			switch f {
			case filepath.Join(exampleOverlay, "kustomization.yaml"):
				if !strings.Contains(text, purgeLine) {
					t.Fatalf("%s has no line %q", f, purgeLine)
				}
				if o.purge {
					text = strings.Replace(text, purgeLine, purgeEnabled, 1)
				}
			case filepath.Join(exampleOverlay, "settings.yaml"):
				if o.settings != "" {
					text = o.settings
				}
			}
			if err := fs.WriteFile(filepath.Join("/deploy", f), []byte(text)); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := filepath.Join("/deploy", exampleOverlay)
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, dir)
	if err != nil {
		t.Fatalf("kustomize %s: %v", exampleOverlay, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatalf("kustomize %s: %v", exampleOverlay, err)
	}
	return out
}

// TestOverlay_AsShipped checks what `kubectl apply -k deploy/overlays/example`
// sends: every value of the base set, no settings ConfigMap (it only carries
// the values), and no purge Job unless the user enables it (it would start
// deleting at once).
func TestOverlay_AsShipped(t *testing.T) {
	tests := []struct {
		name     string
		o        overlay
		wantJobs int
	}{
		{name: "as shipped", o: overlay{}, wantJobs: 0},
		{name: "purge enabled", o: overlay{purge: true}, wantJobs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := tt.o.render(t)
			if strings.Contains(string(out), unset) {
				t.Errorf("the output still has %q:\n%s", unset, out)
			}
			if strings.Contains(string(out), "kind: ConfigMap") {
				t.Errorf("the settings ConfigMap is in the output (it should be local-config):\n%s", out)
			}
			m := decodeAll(t, tt.name, out)
			if len(m.jobs) != tt.wantJobs || len(m.cronJobs) != 1 || len(m.serviceAccounts) != 1 {
				t.Errorf("%d Jobs, %d CronJobs, %d ServiceAccounts; want %d, 1, 1", len(m.jobs), len(m.cronJobs), len(m.serviceAccounts), tt.wantJobs)
			}
		})
	}
}

// TestOverlay_SettingsReachTheirFields renders the example overlay with
// other settings, and checks each lands in every field it names: a user who
// edits settings.yaml alone gets a complete deployment.
func TestOverlay_SettingsReachTheirFields(t *testing.T) {
	settings := `apiVersion: v1
kind: ConfigMap
metadata:
  name: cogsweep-settings
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  image: ghcr.io/acme/cogsweep:v9.8.7
  pool: eu-west-2_Zz9
  bucket: acme-offboarding
  role: arn:aws:iam::444455556666:role/acme-sweeper
  schedule: "15 4 * * 1-5"
`
	m := decodeAll(t, "acme", overlay{purge: true, settings: settings}.render(t))
	if len(m.cronJobs) == 0 || len(m.jobs) == 0 || len(m.serviceAccounts) == 0 {
		t.Fatalf("rendered %d CronJobs, %d Jobs, %d ServiceAccounts", len(m.cronJobs), len(m.jobs), len(m.serviceAccounts))
	}
	for _, sa := range m.serviceAccounts {
		if got := sa.Annotations["eks.amazonaws.com/role-arn"]; got != "arn:aws:iam::444455556666:role/acme-sweeper" {
			t.Errorf("ServiceAccount %s: role-arn %q", sa.Name, got)
		}
	}
	for _, cj := range m.cronJobs {
		if cj.Spec.Schedule != "15 4 * * 1-5" {
			t.Errorf("CronJob %s: schedule %q", cj.Name, cj.Spec.Schedule)
		}
	}
	for _, p := range pods(m) {
		tests := []struct {
			name, env, want string
			prefix          bool // want is the start of the value (an s3:// path)
		}{
			{name: "pool", env: "COGSWEEP_USER_POOL_ID", want: "eu-west-2_Zz9"},
			{name: "region from the pool", env: "AWS_REGION", want: "eu-west-2"},
			{name: "input bucket", env: "COGSWEEP_INPUT", want: "s3://acme-offboarding/leavers/", prefix: true},
			{name: "report bucket", env: "COGSWEEP_REPORT", want: "s3://acme-offboarding/offboarding/", prefix: true},
		}
		for _, tt := range tests {
			got := env(&p.c, tt.env)
			if ok := got == tt.want || tt.prefix && strings.HasPrefix(got, tt.want); !ok {
				t.Errorf("%s: %s: %s = %q, want %q", p.name, tt.name, tt.env, got, tt.want)
			}
		}
		if c := env(&p.c, "COGSWEEP_CONFIRM_POOL_ID"); c != "" && c != "eu-west-2_Zz9" {
			t.Errorf("%s: COGSWEEP_CONFIRM_POOL_ID = %q", p.name, c)
		}
		if p.c.Image != "ghcr.io/acme/cogsweep:v9.8.7" {
			t.Errorf("%s: image %q", p.name, p.c.Image)
		}
	}
}
