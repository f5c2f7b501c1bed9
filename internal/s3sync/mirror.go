package s3sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// segInfix separates a mirrored object's key from its segments' suffix:
// <key>.seg.<epoch>.<start>-<end>.
const segInfix = ".seg."

// DefaultFanout is how many segments of one level are merged into one of
// the next level.
const DefaultFanout = 32

// frozen is the level of segments downloaded from an earlier run: they are
// never merged again (the next base absorbs them).
const frozen = -1

// segment is one segment object: bytes [start, end) of the file.
type segment struct {
	start, end int64
	level      int
}

func segKey(key, epoch string, start, end int64) string {
	return fmt.Sprintf("%s%s%s.%015d-%015d", key, segInfix, epoch, start, end)
}

// parseSeg reads a segment key of the object key.
func parseSeg(key, objKey string) (epoch string, start, end int64, ok bool) {
	rest, ok := strings.CutPrefix(key, objKey+segInfix)
	if !ok {
		return "", 0, 0, false
	}
	epoch, span, ok := strings.Cut(rest, ".")
	if !ok || epoch == "" {
		return "", 0, 0, false
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return "", 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end <= start {
		return "", 0, 0, false
	}
	return epoch, start, end, true
}

// Mirror keeps an S3 object in step with a local file that grows by whole
// lines, except when it is replaced (a compaction's rename, an archive) or
// cut.
//
// In S3 the file is a base object at the key, whose metadata names its
// epoch, plus segment objects <key>.seg.<epoch>.<start>-<end> holding bytes
// start..end of the file: Sync uploads what was appended since the last one
// as a new segment. S3 applies a PutObject whole or not at all, so a torn
// segment never exists, and a segment holds whole lines only. Every
// fanout segments of one level are merged into one of the next level, so a
// long run leaves few objects to read back. When the local file was
// replaced or cut, or at the end (Settle), the whole file becomes a new base
// in a new epoch and the old segments are deleted.
//
// A base replaces the ETag this Mirror last saw (If-Match), or must not
// exist (If-None-Match). A stale writer (a pod that lost its lease)
// therefore cannot overwrite what a newer one wrote: its base write fails
// with ErrPrecondition and the Mirror is fenced, every later call returning
// that error. Its segments cannot harm either: each writer writes its own
// epoch, which it created at random, so readers ignore the stale one's. For
// the same reason a segment key that already exists (If-None-Match fails)
// was written by this Mirror: an earlier attempt whose answer was lost.
type Mirror struct {
	s      *Store
	url    URL
	local  string
	fanout int

	mu      sync.Mutex
	epoch   string
	etag    string      // the base's ETag; "" when S3 has no base
	synced  int64       // bytes [0, synced) of the local file are in S3
	fi      os.FileInfo // the local file synced counts in; nil when none
	segs    []segment   // this epoch's live segments, in file order
	rebase  bool        // the next Sync uploads a new base
	pending *baseTry    // a base upload that failed without an answer
	garbage []string    // keys no longer needed, for Collect
	fenced  error
}

// baseTry is a base upload whose outcome is unknown: S3 may have applied it.
// The next Sync looks before writing again: a base that carries its token
// is this Mirror's own, and its If-Match must start from it.
type baseTry struct {
	token, epoch string
	size         int64
	fi           os.FileInfo
}

// OpenMirror reads what S3 holds of u (the base and the segments that
// extend it) into the local file, which must not exist yet, and returns a
// Mirror that keeps S3 in step with it. When S3 holds nothing, no local file
// is created. fanout <= 1 means DefaultFanout. Segments of other epochs, and
// those a merged segment covers, are left to Collect.
//
// The first Sync after a download writes a new base in a new epoch: a
// previous holder that still writes segments of the old epoch then writes
// only garbage, and its next base write fails.
func (s *Store) OpenMirror(ctx context.Context, u URL, local string, fanout int) (*Mirror, error) {
	if fanout <= 1 {
		fanout = DefaultFanout
	}
	m := &Mirror{s: s, url: u, local: local, fanout: fanout}
	tmp, err := os.CreateTemp(filepath.Dir(local), "."+filepath.Base(local)+".download-*")
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", u, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	defer tmp.Close()
	base, err := s.fetch(ctx, u, tmp)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("download: %w", err)
	}
	keys, err := s.list(ctx, u.Bucket, u.Key+segInfix)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", u, err)
	}
	if !found {
		m.garbage = keys
		return m, nil
	}
	m.epoch, m.etag = base.Meta[metaEpoch], base.ETag
	chain, garbage := chainOf(keys, u.Key, m.epoch, base.Size)
	m.garbage = garbage
	for _, sg := range chain {
		if _, err := s.fetch(ctx, m.segURL(sg), tmp); err != nil {
			return nil, fmt.Errorf("download: %w", err)
		}
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("download %s: %w", u, err)
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		return nil, fmt.Errorf("download %s: %w", u, err)
	}
	fi, err := os.Stat(local)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", u, err)
	}
	m.fi, m.synced, m.segs, m.rebase = fi, fi.Size(), chain, true
	return m, nil
}

// chainOf picks, from the segment keys of objKey, the segments of epoch
// that extend a base of size bytes without a gap: from each offset, the one
// that reaches furthest (a merged segment covers the ones it was made of).
// Every other key is garbage.
func chainOf(keys []string, objKey, epoch string, size int64) (chain []segment, garbage []string) {
	next := map[int64]int64{} // start -> furthest end
	for _, k := range keys {
		e, start, end, ok := parseSeg(k, objKey)
		if ok && e == epoch && end > next[start] {
			next[start] = end
		}
	}
	used := map[string]bool{}
	for pos := size; ; {
		end, ok := next[pos]
		if !ok {
			break
		}
		chain = append(chain, segment{start: pos, end: end, level: frozen})
		used[segKey(objKey, epoch, pos, end)] = true
		pos = end
	}
	for _, k := range keys {
		if !used[k] {
			garbage = append(garbage, k)
		}
	}
	return chain, garbage
}

// URL returns the mirrored object's address.
func (m *Mirror) URL() URL { return m.url }

// Local returns the local file's path.
func (m *Mirror) Local() string { return m.local }

// Sync uploads what changed in the local file since the last Sync: the
// lines appended, as a segment, or the whole file as a new base when it was
// replaced or cut. When it returns nil, every whole line the file held when
// it was called is in S3.
func (m *Mirror) Sync(ctx context.Context) error {
	return m.syncLocked(ctx, false)
}

// Settle makes S3 hold the local file as one object, its base, and leaves
// the segments to Collect: the end of a run that ends by itself.
func (m *Mirror) Settle(ctx context.Context) error {
	return m.syncLocked(ctx, true)
}

func (m *Mirror) syncLocked(ctx context.Context, settle bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fenced != nil {
		return m.fenced
	}
	if settle && len(m.segs) > 0 {
		m.rebase = true
	}
	err := m.sync(ctx, settle)
	if err != nil && errors.Is(err, ErrPrecondition) {
		m.fenced = fmt.Errorf("%s was written by another cogsweep meanwhile (did this one lose its lease?): %w", m.url, err)
		return m.fenced
	}
	return err
}

// sync uploads what the local file gained: a segment, or a new base when
// the file is another or shorter, or when settle asks for one object (the
// segments so far and what is new go into the base).
func (m *Mirror) sync(ctx context.Context, settle bool) error {
	if err := m.settleTry(ctx); err != nil {
		return err
	}
	f, err := os.Open(m.local)
	if errors.Is(err, os.ErrNotExist) {
		// The file was archived and not yet recreated: S3 follows with an
		// empty base, unless it holds nothing of it already.
		if m.etag == "" || (m.fi == nil && m.synced == 0 && !m.rebase) {
			return nil
		}
		return m.newBase(ctx, bytes.NewReader(nil), nil, 0)
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", m.url, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sync %s: %w", m.url, err)
	}
	end, err := fsutil.CompleteSize(f, fi.Size())
	if err != nil {
		return fmt.Errorf("sync %s: %w", m.url, err)
	}
	if settle && end > m.synced {
		m.rebase = true // what is new goes into the one object too
	}
	if m.rebase || m.etag == "" || m.fi == nil || !os.SameFile(m.fi, fi) || end < m.synced {
		return m.newBase(ctx, f, fi, end)
	}
	if end == m.synced {
		return nil
	}
	seg := segment{start: m.synced, end: end}
	if err := m.putSegment(ctx, f, seg); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	m.segs = append(m.segs, seg)
	m.synced = end
	m.merge(ctx, f)
	return nil
}

func (m *Mirror) segURL(sg segment) URL {
	return URL{Bucket: m.url.Bucket, Key: segKey(m.url.Key, m.epoch, sg.start, sg.end)}
}

// putSegment uploads bytes [sg.start, sg.end) of f as a segment object.
func (m *Mirror) putSegment(ctx context.Context, f io.ReaderAt, sg segment) error {
	n := sg.end - sg.start
	_, err := m.s.put(ctx, m.segURL(sg), io.NewSectionReader(f, sg.start, n), n, cond{ifNoneMatch: true}, nil)
	if errors.Is(err, ErrPrecondition) {
		return nil // this epoch is ours: an earlier attempt of ours wrote it
	}
	return err
}

// newBase uploads bytes [0, size) of r as the base of a new epoch.
func (m *Mirror) newBase(ctx context.Context, r io.ReaderAt, fi os.FileInfo, size int64) error {
	try := &baseTry{token: newToken(), epoch: newToken()[:16], size: size, fi: fi}
	c := cond{ifNoneMatch: true}
	if m.etag != "" {
		c = cond{ifMatch: m.etag}
	}
	etag, err := m.s.put(ctx, m.url, r, size, c, map[string]string{metaEpoch: try.epoch, metaWrite: try.token})
	switch {
	case err == nil:
		m.pending = nil
	case errors.Is(err, ErrPrecondition):
		m.pending = nil // refused: it did not land
		return fmt.Errorf("sync: %w", err)
	default:
		m.pending = try
		return fmt.Errorf("sync: %w", err)
	}
	m.adopt(try, etag)
	return nil
}

// adopt records that base try is in S3 with etag.
func (m *Mirror) adopt(try *baseTry, etag string) {
	for _, sg := range m.segs {
		m.garbage = append(m.garbage, m.segURL(sg).Key)
	}
	m.epoch, m.etag, m.synced, m.fi, m.segs, m.rebase = try.epoch, etag, try.size, try.fi, nil, false
}

// settleTry finds out whether a base upload that failed without an answer
// landed after all, and adopts it if so.
func (m *Mirror) settleTry(ctx context.Context) error {
	try := m.pending
	if try == nil {
		return nil
	}
	o, err := m.s.head(ctx, m.url)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("sync: %w", err)
	}
	m.pending = nil
	if err == nil && o.Meta[metaWrite] == try.token {
		m.adopt(try, o.ETag)
	}
	return nil
}

// merge replaces the last fanout segments, when they have one level, by
// one segment of the next level, as long as that holds. A failed merge is
// only logged: the small segments still hold everything, and the next Sync
// tries again.
func (m *Mirror) merge(ctx context.Context, f io.ReaderAt) {
	for len(m.segs) >= m.fanout {
		n := len(m.segs)
		last := m.segs[n-m.fanout:]
		lvl := last[0].level
		if lvl == frozen {
			return
		}
		for _, sg := range last {
			if sg.level != lvl {
				return
			}
		}
		merged := segment{start: last[0].start, end: last[len(last)-1].end, level: lvl + 1}
		if err := m.putSegment(ctx, f, merged); err != nil {
			m.s.log.Warn("could not merge S3 segments; will try again", "object", m.url.String(), "err", err)
			return
		}
		for _, sg := range last {
			m.garbage = append(m.garbage, m.segURL(sg).Key)
		}
		m.segs = append(m.segs[:n-m.fanout], merged)
	}
}

// takeGarbage returns and forgets the keys to delete.
func (m *Mirror) takeGarbage() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.garbage
	m.garbage = nil
	return g
}

// Collect deletes the objects the mirror no longer needs (superseded
// segments). Nothing depends on it: a reader ignores them.
func (m *Mirror) Collect(ctx context.Context) error {
	var errs []error
	for _, k := range m.takeGarbage() {
		if err := m.s.del(ctx, URL{Bucket: m.url.Bucket, Key: k}, ""); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Segments returns how many segment objects extend the base now.
func (m *Mirror) Segments() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.segs)
}
