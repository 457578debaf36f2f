package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhirbridge/fhirbridge/internal/hl7gen"
	"github.com/fhirbridge/fhirbridge/internal/sink"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
)

var raceEnabled bool

var fixedNow = func() time.Time { return time.Date(2024, 3, 14, 10, 0, 0, 0, time.UTC) }

// mllpClient sends framed messages and reads the ACKs.
type mllpClient struct {
	c  net.Conn
	br *bufio.Reader
}

func dialMLLP(t testing.TB, addr string) *mllpClient {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return &mllpClient{c: c, br: bufio.NewReader(c)}
}

func (m *mllpClient) roundTrip(msg []byte) (*hl7v2.Message, error) {
	m.c.SetDeadline(time.Now().Add(30 * time.Second))
	frame := append(append([]byte{0x0B}, msg...), 0x1C, 0x0D)
	if _, err := m.c.Write(frame); err != nil {
		return nil, err
	}
	if b, err := m.br.ReadByte(); err != nil || b != 0x0B {
		return nil, fmt.Errorf("no start block: %v %x", err, b)
	}
	body, err := m.br.ReadBytes(0x1C)
	if err != nil {
		return nil, err
	}
	if b, err := m.br.ReadByte(); err != nil || b != 0x0D {
		return nil, fmt.Errorf("no CR after the end block: %v", err)
	}
	return hl7v2.Parse(body[:len(body)-1])
}

var controlIDRE = regexp.MustCompile(`messageheader-control-id","valueString":"([^"]+)"`)

// TestMLLPEndToEnd sends 10,000 messages (1% malformed or unsupported) over 8 concurrent
// connections and checks that each got exactly one ACK of the right kind, and that every
// AA has its Bundle in the sink, once.
func TestMLLPEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 messages; skipped in -short")
	}
	n, conns := 10000, 8
	if raceEnabled {
		n = 800
	}
	g, err := hl7gen.New()
	if err != nil {
		t.Fatal(err)
	}
	sinkPath := filepath.Join(t.TempDir(), "bundles.ndjson")
	sk, err := sink.NewNDJSON(sinkPath)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Sink: sk, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.ServeMLLP(ctx, ln) }()

	type ack struct{ code, msa2, errLoc string }
	loc := func(m *hl7v2.Message) string {
		return m.Get(hl7v2.Path{Segment: "ERR", Field: 2}) + m.Get(hl7v2.Path{Segment: "ERR", Field: 7})
	}
	acks := make([][]ack, n)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range conns {
		wg.Go(func() {
			cl := dialMLLP(t, ln.Addr().String())
			defer cl.c.Close()
			for i := c; i < n; i += conns {
				m, err := cl.roundTrip(g.Message(i, hl7gen.FaultFor(i)))
				if err != nil {
					t.Errorf("message %d: %v", i, err)
					return
				}
				acks[i] = append(acks[i], ack{m.Get(hl7v2.Path{Segment: "MSA", Field: 1}), m.Get(hl7v2.Path{Segment: "MSA", Field: 2}), loc(m)})
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	sk.Close()
	t.Logf("%d messages over %d connections in %v (%.0f messages/s)", n, conns, elapsed, float64(n)/elapsed.Seconds())

	var wantAA int
	for i, a := range acks {
		if len(a) != 1 {
			t.Fatalf("message %d: %d ACKs", i, len(a))
		}
		want := "AA"
		switch hl7gen.FaultFor(i) {
		case hl7gen.BadSegment:
			want = "AE"
			if !strings.Contains(a[0].errLoc, "line 3") {
				t.Errorf("message %d: AE without the location in ERR: %q", i, a[0].errLoc)
			}
		case hl7gen.Unsupported:
			want = "AR"
		default:
			wantAA++
		}
		if a[0].code != want || a[0].msa2 != hl7gen.ControlID(i) {
			t.Errorf("message %d: ACK %s for %s, want %s for %s", i, a[0].code, a[0].msa2, want, hl7gen.ControlID(i))
		}
	}
	data, err := os.ReadFile(sinkPath)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		m := controlIDRE.FindSubmatch(line)
		if m == nil {
			t.Fatalf("a Bundle without a control id: %.200s", line)
		}
		seen[string(m[1])]++
	}
	if len(seen) != wantAA {
		t.Errorf("sink holds %d Bundles, want %d", len(seen), wantAA)
	}
	for i, a := range acks {
		if a[0].code == "AA" && seen[hl7gen.ControlID(i)] != 1 {
			t.Errorf("message %d acknowledged AA but its Bundle is in the sink %d times", i, seen[hl7gen.ControlID(i)])
		}
	}
}

// failingSink fails every write.
type failingSink struct{}

func (failingSink) Write(context.Context, sink.Record) error { return fmt.Errorf("disk full") }
func (failingSink) Close() error                             { return nil }
func (failingSink) String() string                           { return "failing" }

func TestMLLPAcks(t *testing.T) {
	g, _ := hl7gen.New()
	for _, tt := range []struct {
		name     string
		sink     sink.Sink
		msg      []byte
		maxFrame int
		code     string
		err3     string
	}{
		{name: "ok", msg: g.Message(2, hl7gen.None), code: "AA"},
		{name: "bad segment", msg: g.Message(2, hl7gen.BadSegment), code: "AE", err3: "100"},
		{name: "unsupported", msg: g.Message(2, hl7gen.Unsupported), code: "AR", err3: "200"},
		{name: "sink fails", sink: failingSink{}, msg: g.Message(2, hl7gen.None), code: "AR", err3: "207"},
		{name: "too large", maxFrame: 100, msg: g.Message(2, hl7gen.None), code: "AR", err3: "100"},
		{name: "no MSH", msg: []byte("hello\r"), code: "AR", err3: "200"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := New(Config{Sink: tt.sink, MaxFrame: tt.maxFrame, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.ServeMLLP(ctx, ln) }()
			cl := dialMLLP(t, ln.Addr().String())
			ack, err := cl.roundTrip(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			cl.c.Close()
			cancel()
			<-done
			if got := ack.Get(hl7v2.Path{Segment: "MSA", Field: 1}); got != tt.code {
				t.Errorf("MSA-1 %s, want %s", got, tt.code)
			}
			if got := ack.Get(hl7v2.Path{Segment: "ERR", Field: 3, Component: 1}); got != tt.err3 && tt.err3 != "" {
				t.Errorf("ERR-3.1 %q, want %q", got, tt.err3)
			}
			if tt.code == "AA" || tt.name == "no MSH" {
				return
			}
			// MSH built from the inbound one: sender and receiver swapped, MSA-2 = MSH-10.
			in, _ := hl7v2.Parse(tt.msg[:bytes.IndexByte(tt.msg, '\r')+1])
			for _, f := range [][2]int{{3, 5}, {4, 6}, {5, 3}, {6, 4}} {
				if a, b := ack.Get(hl7v2.Path{Segment: "MSH", Field: f[0]}), in.Get(hl7v2.Path{Segment: "MSH", Field: f[1]}); a != b {
					t.Errorf("ACK MSH-%d %q, want inbound MSH-%d %q", f[0], a, f[1], b)
				}
			}
			if got := ack.Get(hl7v2.Path{Segment: "MSA", Field: 2}); got != in.ControlID() {
				t.Errorf("MSA-2 %q, want %q", got, in.ControlID())
			}
		})
	}
}

func TestHTTP(t *testing.T) {
	g, _ := hl7gen.New()
	srv, err := New(Config{Token: "s3cret", MaxBody: 64 << 10, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	do := func(method, path, ctype, token string, body []byte) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v map[string]any
		json.Unmarshal(b, &v)
		return resp, v
	}
	convertData := func(input, typ string) []byte {
		b, _ := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": []map[string]any{
			{"name": "inputData", "valueString": input},
			{"name": "inputDataType", "valueString": typ},
			{"name": "rootTemplate", "valueString": "ADT_A01"},
		}})
		return b
	}
	ok := g.Message(0, hl7gen.None)
	for _, tt := range []struct {
		name, method, path, ctype, token string
		body                             []byte
		status                           int
		check                            func(t *testing.T, v map[string]any)
	}{
		{name: "convert", method: "POST", path: "/convert", ctype: "x-application/hl7-v2+er7", token: "s3cret", body: ok, status: 200,
			check: func(t *testing.T, v map[string]any) {
				if v["resourceType"] != "Bundle" || v["type"] != "transaction" {
					t.Errorf("got %v %v", v["resourceType"], v["type"])
				}
			}},
		{name: "convert bundleType", method: "POST", path: "/convert?bundleType=collection", token: "s3cret", body: ok, status: 200,
			check: func(t *testing.T, v map[string]any) {
				if v["type"] != "collection" {
					t.Errorf("type %v", v["type"])
				}
			}},
		{name: "convert LF", method: "POST", path: "/convert?format=hl7v2", ctype: "text/plain", token: "s3cret", body: bytes.ReplaceAll(ok, []byte("\r"), []byte("\n")), status: 200},
		{name: "convert-data", method: "POST", path: "/$convert-data", ctype: "application/json", token: "s3cret", body: convertData(string(ok), "Hl7v2"), status: 200,
			check: func(t *testing.T, v map[string]any) {
				if v["resourceType"] != "Bundle" {
					t.Errorf("got %v", v["resourceType"])
				}
			}},
		{name: "convert-data bad type", method: "POST", path: "/$convert-data", ctype: "application/fhir+json", token: "s3cret", body: convertData(string(ok), "Json"), status: 400},
		{name: "convert-data not Parameters", method: "POST", path: "/$convert-data", ctype: "application/json", token: "s3cret", body: []byte(`{"resourceType":"Patient"}`), status: 400},
		{name: "bad message", method: "POST", path: "/convert", token: "s3cret", body: g.Message(0, hl7gen.BadSegment), status: 400,
			check: func(t *testing.T, v map[string]any) {
				is := v["issue"].([]any)[0].(map[string]any)
				if v["resourceType"] != "OperationOutcome" || is["expression"] == nil || !strings.Contains(is["diagnostics"].(string), "line 3") {
					t.Errorf("outcome %v", v)
				}
				if strings.Contains(fmt.Sprint(v), "Okafor") {
					t.Error("the outcome holds patient data")
				}
			}},
		{name: "unsupported", method: "POST", path: "/convert", token: "s3cret", body: g.Message(0, hl7gen.Unsupported), status: 400},
		{name: "wrong format", method: "POST", path: "/convert?format=cda", token: "s3cret", body: ok, status: 400},
		{name: "media type", method: "POST", path: "/convert", ctype: "image/png", token: "s3cret", body: ok, status: 415},
		{name: "too large", method: "POST", path: "/convert", token: "s3cret", body: append(append([]byte{}, ok...), bytes.Repeat([]byte("NTE|1||filler\r"), 6000)...), status: 413},
		{name: "no token", method: "POST", path: "/convert", body: ok, status: 401},
		{name: "wrong token", method: "POST", path: "/convert", token: "guess", body: ok, status: 401},
		{name: "healthz", method: "GET", path: "/healthz", status: 200},
		{name: "not found", method: "GET", path: "/nope", token: "s3cret", status: 404},
		{name: "method", method: "GET", path: "/convert", token: "s3cret", status: 405},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, v := do(tt.method, tt.path, tt.ctype, tt.token, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tt.status, v)
			}
			if tt.status >= 400 && v["resourceType"] != "OperationOutcome" && tt.status != 404 {
				t.Errorf("error body is not an OperationOutcome: %v", v)
			}
			if tt.check != nil {
				tt.check(t, v)
			}
		})
	}
	req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`fhirbridge_http_requests_total{path="/convert",code="200"} 3`,
		`fhirbridge_http_requests_total{path="/convert",code="401"} 2`,
		`fhirbridge_messages_converted_total{front="http"} 4`,
		`fhirbridge_errors_total{kind="parse"}`,
		`fhirbridge_http_request_duration_seconds_bucket{path="/convert",le="+Inf"}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s:\n%s", want, b)
		}
	}
	// Shutting down: /healthz says so.
	srv.BeginShutdown()
	if resp, _ := do("GET", "/healthz", "", "", nil); resp.StatusCode != 503 {
		t.Errorf("healthz while shutting down: %d", resp.StatusCode)
	}
}

// gateSink holds every Write until released.
type gateSink struct {
	entered chan struct{}
	release chan struct{}
	stored  chan struct{}
}

func (g *gateSink) Write(context.Context, sink.Record) error {
	g.entered <- struct{}{}
	<-g.release
	close(g.stored)
	return nil
}
func (g *gateSink) Close() error   { return nil }
func (g *gateSink) String() string { return "gate" }

// TestMLLPDurableAck checks that AA waits for the sink, and that a shutdown lets the
// message in flight finish and be acknowledged.
func TestMLLPDurableAck(t *testing.T) {
	g, _ := hl7gen.New()
	gs := &gateSink{entered: make(chan struct{}, 1), release: make(chan struct{}), stored: make(chan struct{})}
	srv, err := New(Config{Sink: gs, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeMLLP(ctx, ln) }()
	cl := dialMLLP(t, ln.Addr().String())
	defer cl.c.Close()
	acked := make(chan string, 1)
	go func() {
		ack, err := cl.roundTrip(g.Message(4, hl7gen.None))
		if err != nil {
			acked <- "error: " + err.Error()
			return
		}
		select {
		case <-gs.stored:
		default:
			acked <- "ACK before the Bundle was stored"
			return
		}
		acked <- ack.Get(hl7v2.Path{Segment: "MSA", Field: 1})
	}()
	<-gs.entered // the message is in the sink
	cancel()     // shutdown begins with the message in flight
	select {
	case a := <-acked:
		t.Fatalf("ACK %q while the sink still holds the Bundle", a)
	case <-time.After(200 * time.Millisecond):
	}
	close(gs.release)
	if a := <-acked; a != "AA" {
		t.Fatalf("got %q, want AA", a)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeMLLP did not return after the shutdown")
	}
}

// FHIR input with ?to= answers the legacy format, built with ?param. values.
func TestHTTPReverse(t *testing.T) {
	srv, err := New(Config{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	bundle, err := os.ReadFile("../../testdata/fhir/oru_r01.json")
	if err != nil {
		t.Fatal(err)
	}
	post := func(path string) (int, string, string) {
		t.Helper()
		resp, err := http.Post(ts.URL+path, "application/fhir+json", bytes.NewReader(bundle))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ct, body := post("/convert?to=hl7v2&param.sendingApplication=HTTPTEST")
	if code != 200 || ct != "x-application/hl7-v2+er7" || !strings.HasPrefix(body, "MSH|^~\\&|HTTPTEST|") {
		t.Errorf("to=hl7v2: %d %s %.60q", code, ct, body)
	}
	if msg, err := hl7v2.Parse([]byte(body)); err != nil || msg.Get(hl7v2.Path{Segment: "OBX", Field: 3, Component: 1}) == "" {
		t.Errorf("the answer does not parse as an ORU with results: %v", err)
	}
	if code, _, body := post("/convert?to=x12"); code != 400 || !strings.Contains(body, "unknown target format") {
		t.Errorf("to=x12: %d %.80s", code, body)
	}
	if code, _, body := post("/convert"); code != 400 || !strings.Contains(body, "target format") {
		t.Errorf("FHIR without to: %d %.120s", code, body)
	}
}
