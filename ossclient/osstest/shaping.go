package osstest

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault is an injected failure. A request matches when its operation and
// key match; what happens then, in order: Stall (sleep), DropAfter (cut the
// connection after that many body bytes), Status (answer with an OSS error).
// A fault with only a Stall delays the request and then serves it normally.
type Fault struct {
	// Op is the operation name ("GetObject", "UploadPart", ...); "" = any.
	Op string
	// KeyPrefix limits the fault to keys with this prefix; "" = any key
	// (bucket-level operations have the key "").
	KeyPrefix string
	// Status, Code and Message make the error response, e.g. 503 /
	// "ServiceUnavailable". Code defaults from the status (500
	// InternalError, 503 ServiceUnavailable, else "InjectedFault").
	Status  int
	Code    string
	Message string
	// Times: 0 = every matching request; N = the next N matching requests.
	Times int
	// Probability: 0 or 1 = every match; otherwise the chance that a match
	// fires (a match that does not fire does not use up Times).
	Probability float64
	// Stall sleeps this long before answering.
	Stall time.Duration
	// Hold, when not nil, holds the request until Hold is closed (or the
	// request is abandoned), before any Stall: a test decides when the
	// request goes on, instead of racing a timer. Go API only.
	Hold <-chan struct{}
	// DropAfter > 0 closes the connection after this many response-body
	// bytes (downloads), or after reading this many request-body bytes
	// (requests with a body), with no status of its own.
	DropAfter int64
}

type faultEntry struct {
	Fault
	id        uint64
	remaining int
}

// shaper holds the network shaping knobs and the fault list.
type shaper struct {
	mu       sync.Mutex
	lat      time.Duration // GUARDED_BY(mu)
	bps      int64         // GUARDED_BY(mu)
	faults   []*faultEntry // GUARDED_BY(mu)
	nextID   uint64        // GUARDED_BY(mu)
	fired    int64         // GUARDED_BY(mu): faults applied so far
	upNext   time.Time     // GUARDED_BY(mu); when the upload direction is free again
	downNext time.Time     // GUARDED_BY(mu)
}

func newShaper() *shaper { return &shaper{} }

func (sh *shaper) latency() time.Duration {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.lat
}

// throttle books n bytes in one direction at the configured rate and sleeps
// until they would have gone through; directions are capped separately,
// requests share a direction's budget.
func (sh *shaper) throttle(down bool, n int) {
	sh.mu.Lock()
	if sh.bps <= 0 || n <= 0 {
		sh.mu.Unlock()
		return
	}
	next := &sh.upNext
	if down {
		next = &sh.downNext
	}
	// An idle direction starts from now; but a sleeper woken late (a
	// loaded machine's timers) must not leave the link idle for good: the
	// schedule may lag the clock by shapeBurst, a token bucket's depth (tc
	// tbf's burst), and the next bytes catch up. The rate over any
	// stretch longer than that is still bps.
	if floor := time.Now().Add(-shapeBurst); next.Before(floor) {
		*next = floor
	}
	*next = next.Add(time.Duration(float64(n) / float64(sh.bps) * float64(time.Second)))
	wait := time.Until(*next)
	sh.mu.Unlock()
	if wait > 0 {
		time.Sleep(wait)
	}
}

const shapeChunk = 32 << 10

// shapeBurst is how far behind the clock a direction's schedule may fall
// (see throttle): 2 ms, 240 KiB at 120 MiB/s.
const shapeBurst = 2 * time.Millisecond

type shapedBody struct {
	io.ReadCloser
	sh *shaper
}

func (b *shapedBody) Read(p []byte) (int, error) {
	if len(p) > shapeChunk {
		p = p[:shapeChunk]
	}
	n, err := b.ReadCloser.Read(p)
	b.sh.throttle(false, n)
	return n, err
}

func (sh *shaper) wrapBody(body io.ReadCloser) io.ReadCloser {
	if body == nil {
		return body
	}
	return &shapedBody{ReadCloser: body, sh: sh}
}

func (sh *shaper) match(op, key string) *Fault {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i, f := range sh.faults {
		if (f.Op != "" && f.Op != op) || !strings.HasPrefix(key, f.KeyPrefix) {
			continue
		}
		if f.Probability > 0 && f.Probability < 1 && rand.Float64() >= f.Probability {
			continue
		}
		if f.Times > 0 {
			if f.remaining--; f.remaining <= 0 {
				sh.faults = append(sh.faults[:i:i], sh.faults[i+1:]...)
			}
		}
		sh.fired++
		c := f.Fault
		return &c
	}
	return nil
}

// applyFault performs f; done means the request has been answered (or
// abandoned) and must not be served.
func (s *Server) applyFault(q *request, f *Fault) (bool, *ossError) {
	s.log.Debug("injecting fault", "op", q.op, "key", q.key, "request_id", q.id, "status", f.Status, "stall", f.Stall, "drop_after", f.DropAfter)
	s.stats.fault(q.op)
	if f.Hold != nil {
		select {
		case <-f.Hold:
		case <-q.r.Context().Done():
			return true, nil
		}
	}
	if f.Stall > 0 && !sleepCtx(q.r.Context(), f.Stall) {
		return true, nil
	}
	if f.DropAfter > 0 {
		if q.r.ContentLength != 0 && (q.r.Method == http.MethodPut || q.r.Method == http.MethodPost) {
			_, _ = io.CopyN(io.Discard, q.r.Body, f.DropAfter)
			panic(http.ErrAbortHandler) // closes the connection without a response
		}
		q.w.dropAfter = f.DropAfter
		return false, nil
	}
	if f.Status == 0 {
		return false, nil
	}
	drain(q.r.Body)
	code, msg := f.Code, f.Message
	if code == "" {
		switch f.Status {
		case 500:
			code = "InternalError"
		case 503:
			code = "ServiceUnavailable"
		default:
			code = "InjectedFault"
		}
	}
	if msg == "" {
		msg = "Injected fault: " + http.StatusText(f.Status)
	}
	return true, newErr(f.Status, code, "0000-00000000", msg)
}

// respWriter records the status, applies the download bandwidth cap, and
// cuts the connection for a DropAfter fault.
type respWriter struct {
	http.ResponseWriter
	shape       *shaper
	status      int
	written     int64
	wroteHeader bool
	dropAfter   int64
}

func (w *respWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader, w.status = true, code
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	total := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), shapeChunk)]
		if w.dropAfter > 0 && w.written+int64(len(chunk)) >= w.dropAfter {
			chunk = chunk[:w.dropAfter-w.written]
			_, _ = w.ResponseWriter.Write(chunk)
			if f, ok := w.ResponseWriter.(http.Flusher); ok {
				f.Flush()
			}
			panic(http.ErrAbortHandler) // the client sees a body cut short
		}
		w.shape.throttle(true, len(chunk))
		n, err := w.ResponseWriter.Write(chunk)
		total += n
		w.written += int64(n)
		if err != nil {
			return total, err
		}
		p = p[len(chunk):]
	}
	return total, nil
}

// stats counts requests, and faults fired, per operation.
type stats struct {
	mu     sync.Mutex
	counts map[string]int64 // GUARDED_BY(mu)
	total  int64            // GUARDED_BY(mu)
	faults map[string]int64 // GUARDED_BY(mu)
	// notModified counts the GetObjects answered 304 (also counted under
	// GetObject).
	notModified int64 // GUARDED_BY(mu)
}

func newStats() *stats { return &stats{counts: map[string]int64{}, faults: map[string]int64{}} }

func (st *stats) fault(op string) {
	st.mu.Lock()
	st.faults[op]++
	st.mu.Unlock()
}

// FaultCounts returns a copy of how many requests of each operation an
// injected fault (AddFault, --fault/--stall/--drop) has matched and acted on,
// and of the requests rejected by ExpireCredential ("SecurityTokenExpired"),
// since the last ResetCounts: how a fault-injection test proves its fault
// fired, per operation.
func (s *Server) FaultCounts() map[string]int64 {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := make(map[string]int64, len(s.stats.faults))
	for k, v := range s.stats.faults {
		out[k] = v
	}
	return out
}

func (st *stats) add(op string) {
	st.mu.Lock()
	st.counts[op]++
	st.total++
	st.mu.Unlock()
}

// NotModified is the number of GetObject requests (counted under
// GetObject too) answered 304 Not Modified since the last reset.
func (s *Server) NotModified() int64 {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.notModified
}

// Counts returns a copy of the request counts by operation name.
func (s *Server) Counts() map[string]int64 {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := make(map[string]int64, len(s.stats.counts))
	for k, v := range s.stats.counts {
		out[k] = v
	}
	return out
}

// Count is the number of requests for one operation since the last reset.
func (s *Server) Count(op string) int64 {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.counts[op]
}

// TotalRequests counts every API request since the last reset.
func (s *Server) TotalRequests() int64 {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.total
}

// ResetCounts zeroes the request and fault counters.
func (s *Server) ResetCounts() {
	s.stats.mu.Lock()
	s.stats.counts, s.stats.total, s.stats.faults = map[string]int64{}, 0, map[string]int64{}
	s.stats.notModified = 0
	s.stats.mu.Unlock()
}

// SetLatency delays every API request by d before it is served.
func (s *Server) SetLatency(d time.Duration) {
	s.shape.mu.Lock()
	s.shape.lat = d
	s.shape.mu.Unlock()
}

// SetBandwidth caps request and response bodies at bytesPerSec in each
// direction, shared by all requests; 0 removes the cap.
func (s *Server) SetBandwidth(bytesPerSec int64) {
	s.shape.mu.Lock()
	s.shape.bps = bytesPerSec
	s.shape.mu.Unlock()
}

// AddFault installs f (faults are tried in the order added); remove
// uninstalls it.
func (s *Server) AddFault(f Fault) (remove func()) {
	sh := s.shape
	sh.mu.Lock()
	sh.nextID++
	e := &faultEntry{Fault: f, id: sh.nextID, remaining: f.Times}
	sh.faults = append(sh.faults, e)
	sh.mu.Unlock()
	return func() {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		for i, x := range sh.faults {
			if x.id == e.id {
				sh.faults = append(sh.faults[:i:i], sh.faults[i+1:]...)
				return
			}
		}
	}
}

// FaultsFired counts the faults applied since the server started (a
// fault-injection test asserts its fault fired with the difference).
func (s *Server) FaultsFired() int64 {
	s.shape.mu.Lock()
	defer s.shape.mu.Unlock()
	return s.shape.fired
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.shape.mu.Lock()
	s.shape.faults = nil
	s.shape.mu.Unlock()
}

// serveAdmin answers the unsigned admin endpoints under /_ossfs/.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_ossfs/stats" && r.Method == http.MethodGet:
		body, _ := json.Marshal(struct {
			Counts map[string]int64 `json:"counts"`
			Total  int64            `json:"total"`
			Faults map[string]int64 `json:"faults"`
		}{s.Counts(), s.TotalRequests(), s.FaultCounts()})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	case r.URL.Path == "/_ossfs/stats/reset" && r.Method == http.MethodPost:
		s.ResetCounts()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}
