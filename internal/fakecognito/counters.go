package fakecognito

// What the server counts of the calls it answers, for tests to assert on.

// Counters.

func (s *Server) countCall(op string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.calls[op]++
}

func (s *Server) countExecuted(op string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.executed[op]++
}

func (s *Server) countProcessed(op string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.processed[op]++
}

func (s *Server) countThrottle() {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.throttled++
}

func (s *Server) countInvitation() {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.invitations++
}

// Invitations counts the invitation messages AdminCreateUser would have
// sent: a create without MessageAction SUPPRESS, or a RESEND.
func (s *Server) Invitations() int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.invitations
}

// Calls counts requests for op that reached the handler, whatever their fate.
func (s *Server) Calls(op string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.calls[op]
}

// Executed counts requests for op that succeeded (and so took effect).
// A call reset after taking effect (ResetAfterProb) counts too.
func (s *Server) Executed(op string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.executed[op]
}

// Processed counts requests for op that got past faults and quotas to the
// operation itself, whatever it answered: a delete of a user already gone
// counts. It is what a crash-loop test bounds as "calls the server executed".
func (s *Server) Processed(op string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.processed[op]
}

// Throttled counts TooManyRequestsException answers, injected or from quotas.
func (s *Server) Throttled() int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.throttled
}

// Stats is a snapshot of every counter.
type Stats struct {
	Calls               map[string]int `json:"calls"`
	Executed            map[string]int `json:"executed"`
	Throttled           int            `json:"throttled"`
	ProductionServed    int            `json:"production_served"`
	ProductionThrottled int            `json:"production_throttled"`
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	st := Stats{
		Calls:               make(map[string]int, len(s.calls)),
		Executed:            make(map[string]int, len(s.executed)),
		Throttled:           s.throttled,
		ProductionServed:    s.ProductionServed(),
		ProductionThrottled: s.ProductionThrottled(),
	}
	for k, v := range s.calls {
		st.Calls[k] = v
	}
	for k, v := range s.executed {
		st.Executed[k] = v
	}
	return st
}

// Reset zeroes every counter, production's included. State is kept, and
// so are the usage metrics (usage.go): they are the account's history.
func (s *Server) Reset() {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.calls = map[string]int{}
	s.executed = map[string]int{}
	s.processed = map[string]int{}
	s.throttled = 0
	s.invitations = 0
	s.prodServed.Store(0)
	s.prodThrottled.Store(0)
}
