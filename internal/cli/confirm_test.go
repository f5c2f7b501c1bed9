package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// At a terminal, the question that asks for the pool id says how many
// users the run deletes and what share of the pool that is.
func TestConfirm_PromptSaysHowManyOfThePool(t *testing.T) {
	tests := []struct {
		name    string
		rows    int
		answer  string
		want    string
		code    int
		deletes int
	}{
		{name: "typed the pool id", rows: 3, answer: testPool + "\n",
			want: "delete 3 users (30% of about 10) in " + testPool + "? type the pool id: ", code: ExitOK, deletes: 3},
		{name: "typed something else", rows: 1, answer: "yes\n",
			want: "delete 1 user (10% of about 10) in " + testPool + "? type the pool id: ", code: ExitAborted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			srv, url := fake(t, fakecognito.Options{}, 10)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "leavers.csv", usersCSV(1, tt.rows))
			var out, errb bytes.Buffer
			yes := true
			code := Main(t.Context(), []string{"delete", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url,
				"--max-fraction", "1", "--progress", "off", "--log-format", "json"},
				Env{Stdin: strings.NewReader(tt.answer), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, StdinIsTerminal: &yes})
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, errb.String())
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Errorf("stderr lacks the question %q:\n%s", tt.want, errb.String())
			}
			if n := srv.Executed("AdminDeleteUser"); n != tt.deletes {
				t.Errorf("%d deletes, want %d", n, tt.deletes)
			}
		})
	}
}
