//go:build integration

package integration

import (
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/emulator"
)

// TestMoto_AccountReadsFallBack: moto's Service Quotas knows no cognito-idp
// (NoSuchResourceException) and moto 5.2.1 does not serve the CloudWatch
// protocol aws-sdk-go-v2 v1.76.0 speaks (rpcv2Cbor: a 404). Neither stops
// the run: one warning line, and the defaults.
func TestMoto_AccountReadsFallBack(t *testing.T) {
	m := emulator.StartMoto(t)
	pool := m.CreatePool(t, "account")
	m.CreateUsers(t, pool, []string{"alice", "bob", "carol"})
	c := cli{t: t, dir: t.TempDir(), emu: m}
	c.write("in.csv", "username\nalice\nbob\ncarol\n")
	code, out := c.run("", "disable", "--user-pool-id", pool, "--input", "in.csv", "--rate", "auto")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	var warns []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "level=WARN") {
			warns = append(warns, line)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "UserUpdate quota is unknown") || !strings.Contains(warns[0], "load is unknown") {
		t.Errorf("warnings %q, want one line naming both figures", warns)
	}
	if !strings.Contains(out, "at about 12.5/s free (quota 25/s, production unknown over the last hour), 3 rows take about 1s") {
		t.Errorf("no plan line with the defaults:\n%s", out)
	}
}
