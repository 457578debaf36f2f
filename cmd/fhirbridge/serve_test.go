package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhirbridge/fhirbridge/internal/hl7gen"
)

// TestServeCommand starts `fhirbridge serve` on random loopback ports, converts one message
// over each front door, and stops it as SIGTERM would.
func TestServeCommand(t *testing.T) {
	g, _ := hl7gen.New()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("tok\n"), 0o600)
	sinkPath := filepath.Join(dir, "out", "bundles.ndjson")
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "--http", "127.0.0.1:0", "--mllp", "127.0.0.1:0", "--sink", "ndjson:" + sinkPath,
			"--token-file", tokenFile, "--log-format", "json"}, nil, io.Discard, pw)
		pw.Close()
	}()
	var httpURL, mllpAddr string
	sc := bufio.NewScanner(pr)
	for (httpURL == "" || mllpAddr == "") && sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			t.Fatalf("not a JSON log line: %s", sc.Text())
		}
		switch rec["msg"] {
		case "serving HTTP":
			httpURL = rec["url"].(string)
		case "serving MLLP":
			mllpAddr = rec["addr"].(string)
		}
	}
	go io.Copy(io.Discard, pr)
	if httpURL == "" || mllpAddr == "" {
		t.Fatal("the server did not say where it listens")
	}

	req, _ := http.NewRequest("POST", httpURL+"/convert", bytes.NewReader(g.Message(0, hl7gen.None)))
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("POST /convert: %d", resp.StatusCode)
	}

	c, err := net.Dial("tcp", mllpAddr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	c.Write(append(append([]byte{0x0B}, g.Message(1, hl7gen.None)...), 0x1C, 0x0D))
	ack, err := bufio.NewReader(c).ReadBytes(0x1C)
	if err != nil || !bytes.Contains(ack, []byte("MSA|AA|"+hl7gen.ControlID(1))) {
		t.Errorf("ACK %q, %v", ack, err)
	}
	c.Close()

	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d after shutdown", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	data, _ := os.ReadFile(sinkPath)
	if n := strings.Count(string(data), "\n"); n != 1 {
		t.Errorf("the sink holds %d Bundles, want 1", n)
	}
}
