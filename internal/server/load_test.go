package server

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fhirbridge/fhirbridge/internal/hl7gen"
	"github.com/fhirbridge/fhirbridge/internal/sink"
)

// TestLoad measures throughput and latency over loopback when asked:
//
//	FHIRBRIDGE_LOAD=5000 FHIRBRIDGE_LOAD_CONNS=8 go test -run TestLoad -v ./internal/server
func TestLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FHIRBRIDGE_LOAD"))
	if n <= 0 {
		t.Skip("set FHIRBRIDGE_LOAD=N to run the load test")
	}
	conns, _ := strconv.Atoi(os.Getenv("FHIRBRIDGE_LOAD_CONNS"))
	if conns <= 0 {
		conns = 8
	}
	g, _ := hl7gen.New()
	msgs := make([][]byte, n)
	var bytesTotal int
	for i := range msgs {
		msgs[i] = g.Message(i, hl7gen.None)
		bytesTotal += len(msgs[i])
	}
	report := func(name string, lat []time.Duration, elapsed time.Duration) {
		slices.Sort(lat)
		t.Logf("%s: %d messages, %d connections, %.0f messages/s, %.1f MB/s, p50 %v, p99 %v",
			name, n, conns, float64(n)/elapsed.Seconds(), float64(bytesTotal)/1e6/elapsed.Seconds(),
			lat[len(lat)/2].Round(10*time.Microsecond), lat[len(lat)*99/100].Round(10*time.Microsecond))
	}
	run := func(do func(c, i int) error) ([]time.Duration, time.Duration) {
		lat := make([]time.Duration, n)
		var wg sync.WaitGroup
		start := time.Now()
		for c := range conns {
			wg.Go(func() {
				for i := c; i < n; i += conns {
					t0 := time.Now()
					if err := do(c, i); err != nil {
						t.Error(err)
						return
					}
					lat[i] = time.Since(t0)
				}
			})
		}
		wg.Wait()
		return lat, time.Since(start)
	}

	// HTTP POST /convert.
	srv, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	url := "http://" + ln.Addr().String() + "/convert"
	lat, el := run(func(c, i int) error {
		resp, err := client.Post(url, "x-application/hl7-v2+er7", bytes.NewReader(msgs[i]))
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	report("HTTP /convert", lat, el)
	hs.Close()

	// MLLP with an fsynced NDJSON sink.
	sk, err := sink.NewNDJSON(filepath.Join(t.TempDir(), "b.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ = New(Config{Sink: sk})
	ln, _ = net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeMLLP(ctx, ln) }()
	clients := make([]*mllpClient, conns)
	for c := range clients {
		clients[c] = dialMLLP(t, ln.Addr().String())
	}
	lat, el = run(func(c, i int) error {
		ack, err := clients[c].roundTrip(msgs[i])
		if err != nil {
			return err
		}
		if code := string(ack.Segment(1).Field(1).Raw()); code != "AA" {
			return fmt.Errorf("ACK %s", code)
		}
		return nil
	})
	report("MLLP (ndjson sink, fsync)", lat, el)
	for _, c := range clients {
		c.c.Close()
	}
	cancel()
	<-done
	sk.Close()
}
