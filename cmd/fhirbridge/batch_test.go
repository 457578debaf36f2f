package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhirbridge/fhirbridge/internal/hl7gen"
)

func TestBatchCommand(t *testing.T) {
	g, err := hl7gen.New()
	if err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	var b bytes.Buffer
	for i := range 40 {
		f := hl7gen.None
		if i == 7 {
			f = hl7gen.BadSegment
		}
		b.Write(g.Message(i, f))
	}
	os.WriteFile(filepath.Join(in, "a.hl7"), b.Bytes(), 0o644)
	os.WriteFile(filepath.Join(in, "b.hl7"), g.Message(100, hl7gen.None), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	cfg := filepath.Join(t.TempDir(), "fhirbridge.yaml")
	os.WriteFile(cfg, []byte("batch:\n  workers: 2\n  per: input\n"), 0o644)

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--config", cfg, "batch", filepath.Join(in, "*.hl7"), "-o", out}, nil, &stdout, &stderr)
	if code != exitFail {
		t.Fatalf("exit %d, want 1 (one message failed); stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "41 messages: 40 converted, 1 failed") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(out, "a.hl7.ndjson")); err != nil {
		t.Errorf("the config's per: input was not applied: %v", err)
	}
	var s struct{ Converted, Failed int }
	data, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(data, &s); err != nil || s.Converted != 40 || s.Failed != 1 {
		t.Errorf("summary.json: %s", data)
	}
	// Resuming a finished run does nothing and still reports the failure.
	stdout.Reset()
	code = run(context.Background(), []string{"--config", cfg, "batch", filepath.Join(in, "*.hl7"), "-o", out, "--resume"}, nil, &stdout, &stderr)
	if code != exitFail || !strings.Contains(stdout.String(), "done by an earlier run") {
		t.Errorf("resume: exit %d\n%s", code, stdout.String())
	}
}

func TestConfigErrors(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("batch:\n  wrokers: 2\n"), 0o644)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--config", cfg, "batch", ".", "-o", t.TempDir()}, nil, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), `c.yaml:2:3: unknown setting "wrokers" for batch (did you mean "workers"?)`) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{name: "batch without -o", args: []string{"batch", "."}},
		{name: "batch bad per", args: []string{"batch", ".", "-o", "x", "--per", "file"}},
		{name: "serve mllp without sink", args: []string{"serve", "--mllp", "127.0.0.1:0"}},
		{name: "serve half TLS", args: []string{"serve", "--tls-cert", "c.pem"}},
		{name: "completion fish", args: []string{"completion", "fish"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, nil, &stdout, &stderr); code != exitUsage {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr.String())
			}
		})
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"completion", sh}, nil, &stdout, &stderr); code != exitOK {
			t.Fatalf("%s: exit %d", sh, code)
		}
		for _, want := range []string{"--dead-letter", "--token-file", "batch", "serve"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%s completion lacks %s", sh, want)
			}
		}
	}
}
