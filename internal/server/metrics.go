package server

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Metrics are the server's counters, written in the Prometheus text exposition format
// (version 0.0.4) by hand.
type Metrics struct {
	mu        sync.Mutex
	requests  map[[2]string]int64 // path, code
	httpLat   map[string]*histogram
	mllpLat   *histogram
	errors    map[string]int64 // kind
	converted map[string]int64 // front: http, mllp
	acks      map[string]int64 // AA, AE, AR
	conns     int64
	started   time.Time
}

// latency buckets, in seconds
var buckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts []int64 // per bucket, not cumulative
	sum    float64
	n      int64
}

func newHistogram() *histogram { return &histogram{counts: make([]int64, len(buckets))} }

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	h.sum += s
	h.n++
	for i, b := range buckets {
		if s <= b {
			h.counts[i]++
			return
		}
	}
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{requests: map[[2]string]int64{}, httpLat: map[string]*histogram{}, mllpLat: newHistogram(),
		errors: map[string]int64{}, converted: map[string]int64{}, acks: map[string]int64{}, started: time.Now()}
}

func (m *Metrics) request(path string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{path, fmt.Sprint(code)}]++
	h := m.httpLat[path]
	if h == nil {
		h = newHistogram()
		m.httpLat[path] = h
	}
	h.observe(d)
}

func (m *Metrics) mllp(ack string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.acks[ack]++
	m.mllpLat.observe(d)
}

func (m *Metrics) errorKind(kind string) {
	m.mu.Lock()
	m.errors[kind]++
	m.mu.Unlock()
}

func (m *Metrics) convertedN(front string, n int) {
	m.mu.Lock()
	m.converted[front] += int64(n)
	m.mu.Unlock()
}

func (m *Metrics) conn(delta int64) {
	m.mu.Lock()
	m.conns += delta
	m.mu.Unlock()
}

// WriteTo writes the metrics in the Prometheus text format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP fhirbridge_http_requests_total HTTP requests by path and status code.\n# TYPE fhirbridge_http_requests_total counter\n")
	keys := slices.SortedFunc(maps.Keys(m.requests), func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
	for _, k := range keys {
		fmt.Fprintf(&b, "fhirbridge_http_requests_total{path=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	b.WriteString("# HELP fhirbridge_http_request_duration_seconds HTTP request latency.\n# TYPE fhirbridge_http_request_duration_seconds histogram\n")
	for _, p := range slices.Sorted(maps.Keys(m.httpLat)) {
		writeHistogram(&b, "fhirbridge_http_request_duration_seconds", fmt.Sprintf("path=%q", p), m.httpLat[p])
	}
	b.WriteString("# HELP fhirbridge_mllp_message_duration_seconds Time from an MLLP frame's end to its ACK.\n# TYPE fhirbridge_mllp_message_duration_seconds histogram\n")
	writeHistogram(&b, "fhirbridge_mllp_message_duration_seconds", "", m.mllpLat)
	b.WriteString("# HELP fhirbridge_mllp_acks_total ACKs sent by acknowledgment code.\n# TYPE fhirbridge_mllp_acks_total counter\n")
	for _, k := range slices.Sorted(maps.Keys(m.acks)) {
		fmt.Fprintf(&b, "fhirbridge_mllp_acks_total{code=%q} %d\n", k, m.acks[k])
	}
	b.WriteString("# HELP fhirbridge_mllp_connections Open MLLP connections.\n# TYPE fhirbridge_mllp_connections gauge\n")
	fmt.Fprintf(&b, "fhirbridge_mllp_connections %d\n", m.conns)
	b.WriteString("# HELP fhirbridge_errors_total Failed messages and requests by kind.\n# TYPE fhirbridge_errors_total counter\n")
	for _, k := range slices.Sorted(maps.Keys(m.errors)) {
		fmt.Fprintf(&b, "fhirbridge_errors_total{kind=%q} %d\n", k, m.errors[k])
	}
	b.WriteString("# HELP fhirbridge_messages_converted_total Messages converted to Bundles, by front door.\n# TYPE fhirbridge_messages_converted_total counter\n")
	for _, k := range slices.Sorted(maps.Keys(m.converted)) {
		fmt.Fprintf(&b, "fhirbridge_messages_converted_total{front=%q} %d\n", k, m.converted[k])
	}
	b.WriteString("# HELP fhirbridge_uptime_seconds Seconds since the server started.\n# TYPE fhirbridge_uptime_seconds gauge\n")
	fmt.Fprintf(&b, "fhirbridge_uptime_seconds %.3f\n", time.Since(m.started).Seconds())
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func writeHistogram(b *strings.Builder, name, labels string, h *histogram) {
	sep := ""
	if labels != "" {
		sep = ","
	}
	var cum int64
	for i, le := range buckets {
		cum += h.counts[i]
		fmt.Fprintf(b, "%s_bucket{%s%sle=\"%g\"} %d\n", name, labels, sep, le, cum)
	}
	fmt.Fprintf(b, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, h.n)
	if labels != "" {
		labels = "{" + labels + "}"
	}
	fmt.Fprintf(b, "%s_sum%s %g\n%s_count%s %d\n", name, labels, h.sum, name, labels, h.n)
}
