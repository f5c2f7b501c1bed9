package run

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// protectSet is the users a run never touches: the members of each
// --protect-group in every pool the input names, and --protect-file's
// usernames. It is held in memory: protect lists are small (administrators,
// service and test accounts; about 100 bytes each). Names are compared
// without case: a pool may be case-insensitive, and protecting one user too
// many is the safe mistake.
type protectSet struct {
	anyPool map[string]struct{} // lower-cased names protected in every pool
	inPool  map[string]struct{} // pool + "\x00" + lower-cased name
}

func newProtectSet() *protectSet {
	return &protectSet{anyPool: map[string]struct{}{}, inPool: map[string]struct{}{}}
}

// add protects name (a username or a sub) in pool, or in every pool when
// pool is "".
func (p *protectSet) add(pool, name string) {
	name = strings.ToLower(name)
	if pool == "" {
		p.anyPool[name] = struct{}{}
		return
	}
	p.inPool[pool+"\x00"+name] = struct{}{}
}

// has is batch.Job.Protected.
func (p *protectSet) has(pool, name string) bool {
	name = strings.ToLower(name)
	if _, ok := p.anyPool[name]; ok {
		return true
	}
	_, ok := p.inPool[pool+"\x00"+name]
	return ok
}

func (p *protectSet) len() int { return len(p.anyPool) + len(p.inPool) }

// loadProtectFile reads --protect-file into set and returns the file's
// SHA-256 (for the fingerprint) and how many names it gave. A CSV or NDJSON
// file (by extension) needs a username (or sub) column, and a row's
// user_pool_id limits it to that pool; any other file is one username a
// line, blank lines and # comments skipped. Anything unreadable refuses the
// run: a protect list that silently protects fewer users than meant is the
// accident this flag exists to prevent.
func loadProtectFile(path string, set *protectSet) (sum string, n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("--protect-file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	tee := io.TeeReader(f, h)
	if format, ok := input.FormatFromPath(path); ok {
		n, err = protectRows(tee, format, set)
	} else {
		n, err = protectLines(tee, set)
	}
	if err != nil {
		return "", 0, fmt.Errorf("--protect-file %s: %w", path, err)
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return "", 0, fmt.Errorf("--protect-file %s: %w", path, err)
	}
	if n == 0 {
		return "", 0, fmt.Errorf("--protect-file %s lists no user: an empty protect list is more likely a failed export than a wish", path)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func protectRows(r io.Reader, format input.Format, set *protectSet) (int, error) {
	rd, err := input.Open(r, format)
	if err != nil {
		return 0, err
	}
	// A CSV header tells at once; an NDJSON file's lines are checked one
	// by one below (its first line need not carry every field).
	if c := rd.Columns(); format == input.CSV && !c.Username && !c.Sub {
		return 0, errors.New("no username column (username, Username, cognito:username or sub)")
	}
	n := 0
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if row.Err != "" {
			return n, fmt.Errorf("line %d: %s", row.Line, row.Err)
		}
		if row.UserPoolID != "" {
			if err := input.ValidPoolID(row.UserPoolID); err != nil {
				return n, fmt.Errorf("line %d: %w", row.Line, err)
			}
		}
		if row.Username == "" && row.Sub == "" {
			// Skipping it would protect nobody, silently.
			return n, fmt.Errorf("line %d: no username or sub", row.Line)
		}
		for _, name := range []string{row.Username, row.Sub} {
			if name != "" {
				set.add(row.UserPoolID, name)
				n++
			}
		}
	}
}

func protectLines(r io.Reader, set *protectSet) (int, error) {
	sc := bufio.NewScanner(r)
	n, line := 0, 0
	for sc.Scan() {
		line++
		name := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		if err := input.ValidUsername(name); err != nil {
			return n, fmt.Errorf("line %d: %w", line, err)
		}
		set.add("", name)
		n++
	}
	return n, sc.Err()
}

// protectGroups is --protect-group without repeats, sorted.
func (o *Options) protectGroups() []string {
	g := slices.Clone([]string(o.ProtectGroups))
	slices.Sort(g)
	return slices.Compact(g)
}

// fetchProtected lists the members of each --protect-group in each pool the
// run may touch, once per start: one paginated ListUsersInGroup per group
// and pool, never a call per user. Members are not stored in the
// checkpoint: a resume lists them again, so someone added to a group since
// is protected too. A group that does not exist refuses the run (a typo
// would protect nobody); so does a list the credentials may not read.
func (r *plan) fetchProtected(ctx context.Context, a *admission) error {
	c := a.users
	groups := r.o.protectGroups()
	if len(groups) == 0 || !r.hasAdminRows() {
		return nil
	}
	counts, err := r.tally.poolCounts()
	if err != nil {
		return err
	}
	pools := sortedKeys(counts)
	if p := r.o.UserPoolID; p != "" && counts[p] == 0 {
		pools = append(pools, p)
	}
	set := r.protect
	members := 0
	for _, pool := range pools {
		for _, g := range groups {
			n, err := r.listGroup(ctx, c, pool, g, set)
			if err != nil {
				return err
			}
			members += n
		}
	}
	r.log.Info("protected users listed", "groups", groups, "pools", len(pools), "members", members)
	return nil
}

// listGroup adds the members of group in pool to set: their usernames, subs
// and emails (a row may name a user by sub or email).
func (r *plan) listGroup(ctx context.Context, c Backend, pool, group string, set *protectSet) (int, error) {
	token, n := "", 0
	for {
		var page []types.UserType
		var next string
		res := r.pacer.Call(ctx, pacer.UserList, func(ctx context.Context) error {
			var err error
			page, next, err = c.ListUsersInGroupPage(ctx, pool, group, token, 60)
			return err
		})
		if res.Err != nil {
			return n, r.protectError(ctx, c, pool, group, res)
		}
		for _, u := range page {
			set.add(pool, aws.ToString(u.Username))
			for _, a := range u.Attributes {
				// An email too: in a pool where users sign in with it, an
				// email row's Username is the email (identity.go).
				if name := aws.ToString(a.Name); (name == "sub" || name == "email") && aws.ToString(a.Value) != "" {
					set.add(pool, aws.ToString(a.Value))
				}
			}
			n++
		}
		if next == "" {
			return n, nil
		}
		token = next
	}
}

func (r *plan) protectError(ctx context.Context, c Backend, pool, group string, res retry.Result) error {
	if ctx.Err() != nil {
		return batch.ErrInterrupted
	}
	if res.Code == "ResourceNotFoundException" {
		if pool != r.o.UserPoolID {
			// The pool itself may be missing (a row's pool): then its rows
			// fail on their own and there is nobody to protect there.
			if _, exists, err := r.describe(ctx, c, pool); err == nil && !exists {
				return nil
			}
		}
		return &GuardError{Guard: "--protect-group", Err: fmt.Errorf("group %q does not exist in pool %s: check its name (a protect group that does not exist would protect nobody), or leave it out", group, pool)}
	}
	return &GuardError{Guard: "--protect-group", Err: fmt.Errorf("cannot list the members of group %q in pool %s, so they cannot be protected (%s): %v; the credentials need cognito-idp:ListUsersInGroup",
		group, pool, res.Code, res.Err)}
}
