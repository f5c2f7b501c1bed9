// Package deploy holds the Kubernetes manifests (a kustomize base and an
// example overlay) and IAM policies of cogsweep; its test renders the
// overlay and decodes the output strictly into the Kubernetes API types so
// that a misspelt field fails CI instead of being dropped by the API server.
package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cli"
)

// manifests are the decoded objects of a kustomize output.
type manifests struct {
	cronJobs        map[string]*batchv1.CronJob
	jobs            map[string]*batchv1.Job
	serviceAccounts map[string]*corev1.ServiceAccount
}

// documents splits a YAML file into its documents.
func documents(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// decodeStrict decodes one document into the API type its kind names,
// refusing unknown and duplicate fields.
func decodeStrict(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	var obj any
	switch tm.APIVersion + "/" + tm.Kind {
	case "batch/v1/CronJob":
		obj = &batchv1.CronJob{}
	case "batch/v1/Job":
		obj = &batchv1.Job{}
	case "v1/ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "monitoring.coreos.com/v1/PrometheusRule":
		obj = &prometheusRule{} // observability_test.go
	default:
		return nil, fmt.Errorf("unexpected apiVersion/kind %s %s: add its type to the test", tm.APIVersion, tm.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// loadManifests decodes what the example overlay renders with the purge
// enabled: every manifest of deploy/.
func loadManifests(t *testing.T) manifests {
	t.Helper()
	return decodeAll(t, exampleOverlay, overlay{purge: true}.render(t))
}

// decodeAll decodes every document of a kustomize output, keyed by name.
func decodeAll(t *testing.T, what string, data []byte) manifests {
	t.Helper()
	m := manifests{map[string]*batchv1.CronJob{}, map[string]*batchv1.Job{}, map[string]*corev1.ServiceAccount{}}
	for i, doc := range documents(data) {
		obj, err := decodeStrict(doc)
		if err != nil {
			t.Errorf("%s document %d: %v", what, i+1, err)
			continue
		}
		switch o := obj.(type) {
		case *batchv1.CronJob:
			m.cronJobs[o.Name] = o
		case *batchv1.Job:
			m.jobs[o.Name] = o
		case *corev1.ServiceAccount:
			m.serviceAccounts[o.Name] = o
		}
	}
	return m
}

// pod is the cogsweep container of a CronJob or Job.
type pod struct {
	name string
	c    corev1.Container
}

func pods(m manifests) []pod {
	var ps []pod
	for n, cj := range m.cronJobs {
		ps = append(ps, pod{n, cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]})
	}
	for n, j := range m.jobs {
		ps = append(ps, pod{n, j.Spec.Template.Spec.Containers[0]})
	}
	return ps
}

func TestManifests_DecodeStrictly(t *testing.T) {
	m := loadManifests(t)
	if len(m.cronJobs) == 0 || len(m.jobs) == 0 || len(m.serviceAccounts) == 0 {
		t.Fatalf("want a CronJob, an Indexed Job and a ServiceAccount; have %d, %d, %d", len(m.cronJobs), len(m.jobs), len(m.serviceAccounts))
	}
}

// TestDecodeStrict_RejectsTypos shows the check can fail: a misspelt or
// misplaced field, and a value of the wrong type, are errors.
func TestDecodeStrict_RejectsTypos(t *testing.T) {
	data, err := os.ReadFile("base/cronjob-offboarding.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
	}{
		{name: "misspelt field", old: "concurrencyPolicy: Forbid", new: "concurencyPolicy: Forbid"},
		{name: "field at the wrong level", old: "      backoffLimit: 4", new: "      template:\n        backoffLimit: 4"},
		{name: "wrong type", old: "backoffLimit: 4", new: "backoffLimit: four"},
		{name: "duplicate field", old: "  timeZone: Etc/UTC", new: "  timeZone: Etc/UTC\n  timeZone: Europe/Paris"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(string(data), tt.old, tt.new, 1)
			if bad == string(data) {
				t.Fatalf("fixture text %q not found", tt.old)
			}
			if _, err := decodeStrict([]byte(bad)); err == nil {
				t.Error("decoded without error")
			}
		})
	}
}

// wantPolicy is what Kubernetes must do with each exit code of cogsweep.
func wantPolicy(fail batchv1.PodFailurePolicyAction) map[int32]batchv1.PodFailurePolicyAction {
	return map[int32]batchv1.PodFailurePolicyAction{
		cli.ExitUsage:       fail, // retrying cannot help
		cli.ExitRowProblems: fail,
		cli.ExitAborted:     fail,
		cli.ExitInterrupted: batchv1.PodFailurePolicyActionCount, // resumes
	}
}

// checkFailurePolicy checks that the policy maps exit codes as want, for
// the cogsweep container, and ignores disruptions before any exit code rule
// (an evicted pod exits 75 too; the first matching rule wins).
func checkFailurePolicy(t *testing.T, name string, p *batchv1.PodFailurePolicy, want map[int32]batchv1.PodFailurePolicyAction) {
	t.Helper()
	if p == nil || len(p.Rules) == 0 {
		t.Errorf("%s: no podFailurePolicy", name)
		return
	}
	got := map[int32]batchv1.PodFailurePolicyAction{}
	disruption := -1
	for i, r := range p.Rules {
		for _, c := range r.OnPodConditions {
			if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && r.Action == batchv1.PodFailurePolicyActionIgnore {
				disruption = i
			}
		}
		if r.OnExitCodes == nil {
			continue
		}
		if r.OnExitCodes.ContainerName == nil || *r.OnExitCodes.ContainerName != "cogsweep" {
			t.Errorf("%s: rule %d applies to container %v, want cogsweep", name, i, r.OnExitCodes.ContainerName)
		}
		if r.OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn {
			t.Errorf("%s: rule %d operator %s, want In", name, i, r.OnExitCodes.Operator)
		}
		for _, v := range r.OnExitCodes.Values {
			if _, dup := got[v]; !dup { // the first matching rule wins
				got[v] = r.Action
			}
		}
		if disruption < 0 {
			t.Errorf("%s: exit-code rule %d comes before the DisruptionTarget Ignore rule", name, i)
		}
	}
	if disruption < 0 {
		t.Errorf("%s: no Ignore rule for the DisruptionTarget condition", name)
	}
	for code, action := range want {
		if got[code] != action {
			t.Errorf("%s: exit %d -> %q, want %q", name, code, got[code], action)
		}
	}
	for code := range got {
		if _, ok := want[code]; !ok {
			t.Errorf("%s: exit %d is mapped but cogsweep does not use it", name, code)
		}
	}
}

// checkPod checks what every cogsweep pod needs and returns its container.
func checkPod(t *testing.T, name string, pod *corev1.PodSpec, sas map[string]*corev1.ServiceAccount, ns string) *corev1.Container {
	t.Helper()
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q, want Never (podFailurePolicy needs it)", name, pod.RestartPolicy)
	}
	sa, ok := sas[pod.ServiceAccountName]
	if !ok {
		t.Errorf("%s: serviceAccountName %q is not defined in deploy/base", name, pod.ServiceAccountName)
	} else if sa.Namespace != ns {
		t.Errorf("%s: namespace %q, its ServiceAccount's %q", name, ns, sa.Namespace)
	}
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: the pod must run as non-root with a numeric user", name)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", name, len(pod.Containers))
	}
	c := &pod.Containers[0]
	if c.Name != "cogsweep" || c.Image == "" {
		t.Errorf("%s: container %q image %q", name, c.Name, c.Image)
	}
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("%s: the root filesystem should be read-only (everything writable is /tmp)", name)
	}
	var tmpVol string
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/tmp" {
			tmpVol = m.Name
		}
	}
	emptyDir := false
	for _, v := range pod.Volumes {
		if v.Name == tmpVol && v.EmptyDir != nil {
			emptyDir = true
		}
	}
	if !emptyDir {
		t.Errorf("%s: /tmp must be an emptyDir volume", name)
	}
	if env(c, "TMPDIR") != "/tmp" {
		t.Errorf("%s: TMPDIR = %q, want /tmp", name, env(c, "TMPDIR"))
	}
	return c
}

func env(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func TestCronJob(t *testing.T) {
	m := loadManifests(t)
	for name, cj := range m.cronJobs {
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: concurrencyPolicy %q, want Forbid", name, cj.Spec.ConcurrencyPolicy)
		}
		js := cj.Spec.JobTemplate.Spec
		if js.BackoffLimit == nil {
			t.Errorf("%s: no backoffLimit", name)
		}
		if js.PodReplacementPolicy == nil || *js.PodReplacementPolicy != batchv1.Failed {
			t.Errorf("%s: podReplacementPolicy must be Failed", name)
		}
		checkFailurePolicy(t, name, js.PodFailurePolicy, wantPolicy(batchv1.PodFailurePolicyActionFailJob))
		checkPod(t, name, &js.Template.Spec, m.serviceAccounts, cj.Namespace)
	}
}

func TestIndexedJob(t *testing.T) {
	m := loadManifests(t)
	for name, j := range m.jobs {
		s := j.Spec
		if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
			t.Errorf("%s: completionMode must be Indexed (JOB_COMPLETION_INDEX is the shard)", name)
		}
		if s.BackoffLimitPerIndex == nil {
			t.Errorf("%s: no backoffLimitPerIndex: one shard's failures would stop every shard", name)
		}
		if s.PodReplacementPolicy == nil || *s.PodReplacementPolicy != batchv1.Failed {
			t.Errorf("%s: podReplacementPolicy must be Failed", name)
		}
		checkFailurePolicy(t, name, s.PodFailurePolicy, wantPolicy(batchv1.PodFailurePolicyActionFailIndex))
		c := checkPod(t, name, &s.Template.Spec, m.serviceAccounts, j.Namespace)
		shards, err := strconv.Atoi(env(c, "COGSWEEP_SHARDS"))
		if err != nil || s.Completions == nil || int32(shards) != *s.Completions {
			t.Errorf("%s: COGSWEEP_SHARDS %q must equal completions %v", name, env(c, "COGSWEEP_SHARDS"), s.Completions)
		}
	}
}

func TestServiceAccount_IRSA(t *testing.T) {
	m := loadManifests(t)
	for name, sa := range m.serviceAccounts {
		arn := sa.Annotations["eks.amazonaws.com/role-arn"]
		if !regexp.MustCompile(`^arn:aws:iam::\d{12}:role/.+`).MatchString(arn) {
			t.Errorf("ServiceAccount %s: role-arn annotation %q", name, arn)
		}
	}
}

// helpFlags returns the flags `cogsweep <action> --help` lists.
func helpFlags(t *testing.T, action string) map[string]bool {
	t.Helper()
	var out, errb bytes.Buffer
	no := false
	code := cli.Main(context.Background(), []string{action, "--help"},
		cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, StdinIsTerminal: &no})
	if code != cli.ExitOK {
		t.Fatalf("%s --help: exit %d\n%s", action, code, errb.String())
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-[a-z], )?--([a-z0-9-]+)`).FindAllStringSubmatch(out.String()+errb.String(), -1) {
		flags[m[1]] = true
	}
	if len(flags) < 5 {
		t.Fatalf("%s --help lists %d flags: %s", action, len(flags), out.String())
	}
	return flags
}

// TestManifests_EnvNamesFlags checks every COGSWEEP_* variable of a
// manifest is a flag of the action the container runs: a misspelt variable
// would otherwise be ignored silently.
func TestManifests_EnvNamesFlags(t *testing.T) {
	for _, p := range pods(loadManifests(t)) {
		if len(p.c.Args) == 0 {
			t.Errorf("%s: no action in args", p.name)
			continue
		}
		flags := helpFlags(t, p.c.Args[0])
		for _, e := range p.c.Env {
			name, ok := strings.CutPrefix(e.Name, "COGSWEEP_")
			if !ok {
				continue
			}
			flag := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
			if !flags[flag] {
				t.Errorf("%s: %s names no flag of %s (--%s)", p.name, e.Name, p.c.Args[0], flag)
			}
		}
	}
}

// policy is an IAM policy document.
type policy struct {
	Version   string
	Statement []struct {
		Sid       string
		Effect    string
		Principal map[string]any
		Action    stringOrList
		Resource  stringOrList
		Condition map[string]map[string]any
	}
}

type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

func loadPolicy(t *testing.T, path string) policy {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p policy
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if p.Version != "2012-10-17" {
		t.Errorf("%s: Version %q", path, p.Version)
	}
	return p
}

// accountReads are the optional, read-only calls of the pre-flight's
// account plan (the quota, production's load). Neither CloudWatch's
// GetMetricData nor the Service Quotas reads name a resource the
// policy could narrow them to, so their statement alone has Resource *.
var accountReads = []string{"cloudwatch:GetMetricData", "servicequotas:GetAWSDefaultServiceQuota", "servicequotas:GetServiceQuota"}

// TestIAMPolicies checks there is a policy per action, granting the calls
// that action makes and nothing wider: no wildcard actions, and no wildcard
// resource but for the optional account reads.
func TestIAMPolicies(t *testing.T) {
	lookups := []string{"cognito-idp:AdminListGroupsForUser", "cognito-idp:ListUsers", "cognito-idp:ListUsersInGroup"}
	base := []string{"cognito-idp:AdminGetUser", "cognito-idp:DescribeUserPool"}
	tests := []struct {
		action batch.Action
		call   string   // the mutating call; "" for token-only actions
		more   []string // the action's other calls
	}{
		{action: batch.Disable, call: "cognito-idp:AdminDisableUser"},
		{action: batch.Delete, call: "cognito-idp:AdminDeleteUser"},
		{action: batch.Enable, call: "cognito-idp:AdminEnableUser"},
		{action: batch.SignOut, call: "cognito-idp:AdminUserGlobalSignOut"},
		{action: batch.DeleteAttributes, call: "cognito-idp:AdminDeleteUserAttributes"},
		{action: batch.SelfDelete}, // DeleteUser is authorized by the user's token, not IAM
		{action: batch.Rollback, call: "cognito-idp:AdminEnableUser"},
		{action: batch.Restore, call: "cognito-idp:AdminCreateUser", more: []string{"cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminDisableUser"}},
	}
	if len(tests) != len(batch.Actions) {
		t.Fatalf("%d actions tested, cogsweep has %d: add the new one", len(tests), len(batch.Actions))
	}
	for _, tt := range tests {
		t.Run(string(tt.action), func(t *testing.T) {
			p := loadPolicy(t, filepath.Join("iam", string(tt.action)+".json"))
			var cognito, s3 []string
			sawReads := false
			for _, st := range p.Statement {
				if st.Effect != "Allow" {
					t.Errorf("statement %s: Effect %s", st.Sid, st.Effect)
				}
				if st.Sid == "OptionalAccountReads" {
					sawReads = true
					if got := slices.Sorted(slices.Values(st.Action)); !slices.Equal(got, accountReads) {
						t.Errorf("statement %s: actions %v, want exactly %v", st.Sid, got, accountReads)
					}
					continue
				}
				for _, a := range st.Action {
					if strings.Contains(a, "*") {
						t.Errorf("wildcard action %s", a)
					}
					if strings.HasPrefix(a, "cognito-idp:") {
						cognito = append(cognito, a)
					} else {
						s3 = append(s3, a)
					}
				}
				for _, r := range st.Resource {
					if r == "*" {
						t.Errorf("statement %s: Resource *", st.Sid)
					}
					if strings.HasPrefix(r, "arn:aws:cognito-idp:") && !strings.Contains(r, ":userpool/") {
						t.Errorf("statement %s: cognito resource %s is not a user pool", st.Sid, r)
					}
				}
			}
			var want []string
			if tt.call != "" {
				want = append(append(append(append(want, base...), lookups...), tt.call), tt.more...)
			}
			if sawReads != (tt.call != "") {
				t.Errorf("statement OptionalAccountReads present %v, want it in every admin action's policy only", sawReads)
			}
			slices.Sort(want)
			slices.Sort(cognito)
			if !slices.Equal(slices.Compact(cognito), want) {
				t.Errorf("cognito actions %v, want %v", cognito, want)
			}
			for _, a := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"} {
				if !slices.Contains(s3, a) {
					t.Errorf("no %s: S3 reports and checkpoints need it", a)
				}
			}
		})
	}
	for _, f := range []string{"trust-irsa.json", "trust-pod-identity.json"} {
		loadPolicy(t, filepath.Join("iam", f))
	}
}

// TestManifests_S3PathsAreInTheirPolicy checks each manifest's s3:// input
// and report are objects its action's policy grants.
func TestManifests_S3PathsAreInTheirPolicy(t *testing.T) {
	for _, p := range pods(loadManifests(t)) {
		c := p.c
		p := loadPolicy(t, filepath.Join("iam", c.Args[0]+".json"))
		for _, e := range c.Env {
			obj, ok := strings.CutPrefix(e.Value, "s3://")
			if !ok {
				continue
			}
			granted := false
			for _, st := range p.Statement {
				if !slices.Contains(st.Action, "s3:GetObject") {
					continue
				}
				for _, r := range st.Resource {
					prefix, _ := strings.CutSuffix(strings.TrimPrefix(r, "arn:aws:s3:::"), "*")
					if strings.HasPrefix(obj, prefix) {
						granted = true
					}
				}
			}
			if !granted {
				t.Errorf("%s=%s: %s.json grants no s3:GetObject on it", e.Name, e.Value, c.Args[0])
			}
		}
	}
}
