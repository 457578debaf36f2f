package sink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestNDJSONGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "b.ndjson")
	s, err := NewNDJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := s.Write(context.Background(), Record{Bundle: fmt.Appendf(nil, `{"n":%d}`, i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), Record{Bundle: []byte("{}")}); err == nil {
		t.Error("Write after Close succeeded")
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	if len(lines) != 200 || len(seen) != 200 {
		t.Errorf("%d lines, %d distinct, want 200", len(lines), len(seen))
	}
}

func TestDirIdempotent(t *testing.T) {
	dir := t.TempDir()
	s, err := Open("dir:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	r := Record{Bundle: []byte(`{"resourceType":"Bundle"}`), ControlID: "A/1 2"}
	for range 2 {
		if err := s.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "A_1_2-") {
		t.Errorf("files %v", ents)
	}
}

func TestFHIR(t *testing.T) {
	status := 200
	var got string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = r.Header.Get("Content-Type") + " " + r.Header.Get("Authorization") + " " + string(b)
		w.WriteHeader(status)
	}))
	defer ts.Close()
	s, err := Open(ts.URL + "/fhir")
	if err != nil {
		t.Fatal(err)
	}
	s.(*FHIR).Token = "t"
	if err := s.Write(context.Background(), Record{Bundle: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if got != "application/fhir+json Bearer t {}" {
		t.Errorf("request %q", got)
	}
	status = 500
	if err := s.Write(context.Background(), Record{Bundle: []byte("{}")}); err == nil {
		t.Error("a 500 was taken as stored")
	}
}

func TestOpenErrors(t *testing.T) {
	for _, spec := range []string{"", "dir:", "s3:bucket", "fhir:ftp://x", "nocolon"} {
		if _, err := Open(spec); err == nil {
			t.Errorf("Open(%q) succeeded", spec)
		}
	}
}
