package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cogsweep/cogsweep/internal/run"
)

// jobCompletionIndexEnv is set by a Kubernetes Indexed Job in each pod.
const jobCompletionIndexEnv = "JOB_COMPLETION_INDEX"

// resolveShard settles --shard I/N and --shards N. With --shards alone the
// index comes from JOB_COMPLETION_INDEX, so an Indexed Job's pods need the
// same arguments.
func resolveShard(shard string, shards int, getenv func(string) string) (run.Shard, error) {
	if shards < 0 {
		return run.Shard{}, errors.New("--shards must be positive")
	}
	if shard == "" && shards == 0 {
		return run.Shard{}, nil
	}
	var s run.Shard
	if shard != "" {
		i, n, ok := strings.Cut(shard, "/")
		var err1, err2 error
		s.Index, err1 = strconv.Atoi(strings.TrimSpace(i))
		s.Count, err2 = strconv.Atoi(strings.TrimSpace(n))
		if !ok || err1 != nil || err2 != nil {
			return run.Shard{}, fmt.Errorf("--shard %q: want I/N, e.g. 0/4 (shards are numbered from 0)", shard)
		}
		if shards != 0 && shards != s.Count {
			return run.Shard{}, fmt.Errorf("--shard %s and --shards %d disagree on the number of shards", shard, shards)
		}
	} else {
		s.Count = shards
		v := getenv(jobCompletionIndexEnv)
		if v == "" {
			return run.Shard{}, fmt.Errorf("--shards %d needs the shard index: give --shard I/%d, or run it in a Kubernetes Indexed Job (%s)", shards, shards, jobCompletionIndexEnv)
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return run.Shard{}, fmt.Errorf("%s=%q: not a shard index", jobCompletionIndexEnv, v)
		}
		s.Index = i
	}
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return run.Shard{}, fmt.Errorf("shard %d/%d: want 0 <= I < N", s.Index, s.Count)
	}
	return s, nil
}
