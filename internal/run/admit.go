package run

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// admission is admit's decision and what the pre-flight learnt on the way.
type admission struct {
	confirmed map[string]bool // pools confirmed for an irreversible action; nil when none needs it
	// ask: --user-pool-id is confirmed at the terminal once the pre-flight
	// knows the pool's size (askPool).
	ask   bool
	users Backend // nil: the run makes no call
	// refusal ends the run before any row is tried: every row not settled
	// is recorded not_attempted and the exit code follows it. A dry run
	// goes on through a guard's refusal to write the whole plan.
	refusal error

	cfg     *aws.Config     // the SDK's, nil when Env.Backend replaces it
	caller  *cognito.Caller // STS GetCallerIdentity; nil when unchecked
	backup  *backup.Writer  // --backup, open; nil without
	account *accountPlan    // the quota and production's load; nil when unread
}

// admit decides, before the first mutating call, whether the run may go
// ahead. Confirmation and the pool check happen at every start. The guards
// (--max-users, --max-fraction) are judged once, at the run's first start,
// and their verdict goes into the checkpoint header (f.fresh). The protect
// groups are listed at every start. A finished run asked again with nothing
// left to settle makes no call. The error is a failure to record the
// decision in the checkpoint.
func (p *plan) admit(ctx context.Context, f *opened) (*admission, error) {
	pending := p.rows() - f.state.Settled.Count()
	var stored *GuardVerdict
	if f.resume && len(f.journal.State().Header.Guards) > 0 {
		stored = new(GuardVerdict)
		if err := json.Unmarshal(f.journal.State().Header.Guards, stored); err != nil {
			return nil, fmt.Errorf("checkpoint %s: guards: %w", p.checkpointPath, err)
		}
	}
	// One deadline for the pre-flight's calls (preflight.go); listing the
	// protect groups is not a check and takes as long as they are big.
	pctx, cancel := p.preflightContext(ctx)
	defer cancel()
	a := &admission{}
	a.confirmed, a.ask, a.refusal = p.confirm()
	if a.refusal == nil && (!f.resume || pending > 0) {
		if a.users, a.cfg, a.refusal = p.dial(pctx); a.refusal == nil {
			a.refusal = p.preflight(pctx, a)
		}
		if a.refusal == nil {
			// Once the credentials and the pool are known good (account.go).
			a.account, a.refusal = p.readAccount(pctx, a, pending)
		}
	}
	if a.refusal != nil {
		return a, f.writeHeader(p.headerOptions(), nil)
	}
	v := stored
	if v == nil && a.users != nil {
		var refusal error
		if v, refusal = p.judge(pctx, a); refusal != nil {
			a.refusal = refusal
			return a, f.writeHeader(p.headerOptions(), nil)
		}
		if err := f.writeHeader(p.headerOptions(), v); err != nil {
			return nil, err
		}
		if f.resume {
			if err := p.storeVerdict(f.journal, v); err != nil {
				return nil, err
			}
		}
	} else if err := f.writeHeader(p.headerOptions(), nil); err != nil {
		return nil, err
	}
	if v != nil && v.Refused != "" {
		a.refusal = p.guardRefusal(v.Refused, v.Reason)
		return a, nil // listing protect groups is moot, for a dry run too: it reads no user
	}
	if a.ask && a.users != nil && a.refusal == nil {
		if a.refusal = p.askPool(a); a.refusal != nil {
			return a, nil
		}
	}
	if a.users != nil && a.refusal == nil {
		// The pre-flight's read of the first row's user, once the guards
		// let the run go (identity.go).
		if a.refusal = p.checkAccess(pctx, a); a.refusal != nil {
			return a, nil
		}
	}
	if a.users != nil {
		if err := p.fetchProtected(ctx, a); err != nil && a.refusal == nil {
			a.refusal = err
		}
	}
	return a, nil
}

// writeHeader writes a fresh run's checkpoint header with the run's
// options, once: with the verdict when the guards were judged, without one
// when the run stopped before.
func (f *opened) writeHeader(options map[string]string, v *GuardVerdict) error {
	if f.fresh == nil {
		return nil
	}
	h := *f.fresh
	f.fresh = nil
	h.Options = options
	if v != nil {
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("write checkpoint: guards: %w", err)
		}
		h.Guards = raw
	}
	if err := f.journal.WriteHeader(h); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// storeVerdict records guards judged on a resume: an earlier start stopped
// before judging them (no confirmation, a missing pool). The header can be
// written only once, so while no mutating call was ever made (no intent)
// the checkpoint is archived and begun again with the verdict in its
// header. Otherwise (a checkpoint of an older cogsweep) the guards are
// judged again at each start.
func (p *plan) storeVerdict(j *checkpoint.Journal, v *GuardVerdict) error {
	st := j.State()
	if st.Intents > 0 {
		p.log.Warn("the checkpoint holds no verdict of the guards (an older cogsweep wrote it): they are judged again at each start", "checkpoint", p.checkpointPath)
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write checkpoint: guards: %w", err)
	}
	if _, err := j.Reset(nil); err != nil {
		return fmt.Errorf("rewrite checkpoint with the guards' verdict: %w", err)
	}
	h := st.Header
	h.Guards = raw
	if err := j.WriteHeader(h); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// confirm checks --confirm-pool-id for irreversible admin actions. It
// returns the confirmed pools (nil when the action needs none), and ask
// when --user-pool-id is left for the person at the terminal to confirm
// (askPool, after the pre-flight: the question says how many users of how
// many). Without a terminal to ask at, the refusal comes before any call.
func (p *plan) confirm() (confirmed map[string]bool, ask bool, refusal error) {
	o := p.o
	if !o.Action.Destructive() || o.DryRun || !p.hasAdminRows() {
		return nil, false, nil
	}
	confirmed = map[string]bool{}
	for _, pool := range o.ConfirmPools {
		confirmed[pool] = true
	}
	if o.UserPoolID == "" || confirmed[o.UserPoolID] {
		return confirmed, false, nil
	}
	if p.stdinIsTerminal() && p.input != "-" {
		return confirmed, true, nil
	}
	return nil, false, p.unconfirmed()
}

func (p *plan) unconfirmed() error {
	o := p.o
	return &GuardError{Guard: "confirmation", Err: fmt.Errorf("%s cannot be undone: add --confirm-pool-id %s (or run it at a terminal and type the pool id)", o.Action, o.UserPoolID)}
}

// askPool asks the person at the terminal to type --user-pool-id:
// "delete 1,204 users (12% of about 10,000) in us-east-1_AbC123? type the
// pool id".
func (p *plan) askPool(a *admission) error {
	o := p.o
	fmt.Fprintf(p.env.Stderr, "%s? type the pool id: ", p.question())
	line, _ := readLine(p.env.Stdin)
	if strings.TrimSpace(line) != o.UserPoolID {
		return p.unconfirmed()
	}
	a.confirmed[o.UserPoolID] = true
	return nil
}

// question is what the run will do to --user-pool-id, with the pool's
// size when DescribeUserPool gave it.
func (p *plan) question() string {
	o := p.o
	counts, _ := p.tally.poolCounts() // nil past maxPools: the guards refused already
	n := counts[o.UserPoolID]
	verb := string(o.Action)
	if o.Action == batch.DeleteAttributes {
		verb = "delete attributes of"
	}
	noun := "users"
	if n == 1 {
		noun = "user"
	}
	q := fmt.Sprintf("%s %s %s", verb, thousands(n), noun)
	if d, ok := p.pools[o.UserPoolID]; ok && d.exists && d.pool.EstimatedUsers > 0 {
		q += fmt.Sprintf(" (%s of about %s)", share(n, d.pool.EstimatedUsers), thousands(d.pool.EstimatedUsers))
	}
	return q + " in " + o.UserPoolID
}

// share is n of total as a percentage people read: "12%", "0.4%".
func share(n, total int) string {
	pct := 100 * float64(n) / float64(total)
	if pct < 10 && pct != math.Trunc(pct) {
		return strconv.FormatFloat(pct, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(pct), 'f', 0, 64) + "%"
}

func (r *run) stdinIsTerminal() bool {
	if r.env.StdinIsTerminal != nil {
		return *r.env.StdinIsTerminal
	}
	f, ok := r.env.Stdin.(*os.File)
	return ok && isTerminal(f)
}

func readLine(rd io.Reader) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 256 {
		n, err := rd.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				break
			}
			b = append(b, one[0])
		}
		if err != nil {
			return string(b), err
		}
	}
	return string(b), nil
}

// dial makes the Cognito client of the run's region, and returns the SDK
// configuration it was made with (nil with Env.Backend).
func (p *plan) dial(ctx context.Context) (Backend, *aws.Config, error) {
	if p.env.Backend != nil {
		return p.env.Backend, nil, nil
	}
	cfg, err := cognito.LoadAWSConfig(ctx, cognito.Config{
		Region: p.region, Profile: p.o.Profile, MaxConns: 64, Log: p.log,
	})
	if err != nil {
		return nil, nil, &retry.FatalError{Code: "ConfigError", Err: err}
	}
	return cognito.New(cfg, p.o.EndpointURL), &cfg, nil
}

// close closes the --backup file; every saved line was already durable.
func (a *admission) close(log *slog.Logger) {
	if a == nil || a.backup == nil {
		return
	}
	if err := a.backup.Close(); err != nil {
		log.Warn("close backup", "err", err)
	}
}
