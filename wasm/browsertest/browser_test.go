package browsertest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/fhirbridge/fhirbridge/wasm/playground"
)

const (
	wasmDir   = ".."
	staticDir = "../playground/static"
	maxGzip   = 8 << 20 // the gzipped module must stay under 8 MiB
)

var (
	buildOnce sync.Once
	buildErr  error
	buildLog  []byte
)

// build builds the module and the playground's files once per test run, as
// `go generate ./wasm` does.
func build(t *testing.T) {
	t.Helper()
	if os.Getenv("FHIRBRIDGE_WASM_BUILT") != "" {
		return
	}
	buildOnce.Do(func() {
		cmd := exec.Command("go", "run", "./internal/build")
		cmd.Dir = wasmDir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		buildLog, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building the module: %v\n%s", buildErr, buildLog)
	}
	t.Logf("%s", bytes.TrimSpace(buildLog))
}

func TestWasmSize(t *testing.T) {
	build(t)
	raw, err := os.ReadFile(wasmDir + "/fhirbridge.wasm")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	zw.Write(raw)
	zw.Close()
	t.Logf("fhirbridge.wasm: %d bytes raw, %d bytes gzipped", len(raw), gz.Len())
	if gz.Len() >= maxGzip {
		t.Errorf("the gzipped module is %d bytes; keep it under %d", gz.Len(), maxGzip)
	}
}

// TestNode runs the Node.js tests of the JS API (wasm/test).
func TestNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: the tests of the JS API in Node.js (wasm/test) did not run")
	}
	build(t)
	cmd := exec.Command(node, "--test", "test/")
	cmd.Dir = wasmDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test test/: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}

// chromium finds the browser: $CHROMIUM, else the usual names on the PATH.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

type example struct {
	Format string `json:"format"`
	Name   string `json:"name"`
	To     string `json:"to"` // FHIR examples: the legacy format they convert to
}

// legacyStart is how the reverse direction's output of each format begins.
var legacyStart = map[string][]string{"hl7v2": {"MSH|"}, "cda": {"<?xml", "<ClinicalDocument"}, "edifact": {"UNA", "UNB+"}}

// pageResult is what the page shows after a conversion.
type pageResult struct {
	Bundle   string   `json:"bundle"`
	Errors   []string `json:"errors"`
	Warnings int      `json:"warnings"`
	Summary  string   `json:"summary"`
	TimingMs float64  `json:"timingMs"`
	TreeRows int      `json:"treeRows"`
	Patient  bool     `json:"patientInTree"`
}

const readResult = `(() => {
	const q = (s) => document.querySelector(s);
	return {
		bundle: q("#bundle-json").textContent,
		errors: [...document.querySelectorAll("#errors li")].map((li) => li.textContent),
		warnings: document.querySelectorAll("#warnings li").length,
		summary: q("#summary").textContent,
		timingMs: Number(q("#timing").dataset.ms || 0),
		treeRows: document.querySelectorAll("#tree details, #tree .leaf").length,
		patientInTree: [...document.querySelectorAll("#tree summary")].some((s) => s.textContent.includes("Patient/")),
	};
})()`

// TestPlayground drives the playground in headless Chromium: it converts the first example of
// every format through the page, shows a bad message's error and goes on, then works offline.
func TestPlayground(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium found (install it: apt-get install -y chromium; or set CHROMIUM): the playground was not tested in a browser")
	}
	build(t)
	var examples struct{ Examples []example }
	data, err := os.ReadFile(staticDir + "/examples.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &examples); err != nil {
		t.Fatal(err)
	}
	byFormat := map[string][]example{}
	var formats []string
	for _, ex := range examples.Examples {
		if byFormat[ex.Format] == nil {
			formats = append(formats, ex.Format)
		}
		byFormat[ex.Format] = append(byFormat[ex.Format], ex)
	}
	if len(byFormat["hl7v2"]) == 0 {
		t.Fatalf("examples.json lists no HL7 v2 example: %s", data)
	}

	srv := httptest.NewServer(playground.HandlerFS(os.DirFS(staticDir)))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout of its own
		t.Fatalf("starting %s: %v", bin, err)
	}
	var mu sync.Mutex
	var pageErrors []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			pageErrors = append(pageErrors, "exception: "+exceptionText(ev.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				pageErrors = append(pageErrors, "console.error: "+argsText(ev.Args))
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range pageErrors {
			t.Errorf("the page reported %s", e)
		}
	}()

	run := func(t *testing.T, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := chromedp.Do(tctx, steps...); err != nil {
			status, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#status")))
			t.Fatalf("%v (status: %q)", err, status)
		}
	}
	eval := func(t *testing.T, expr string) pageResult {
		t.Helper()
		r, err := chromedp.Run(ctx, chromedp.Evaluate[pageResult](expr))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// convert clicks Convert and waits for the result.
	convert := func(t *testing.T) pageResult {
		t.Helper()
		run(t, time.Minute,
			chromedp.Evaluate[chromedp.Void](`document.getElementById("output").dataset.state = "idle"`),
			chromedp.Click(chromedp.CSS("#convert")),
			chromedp.WaitReady(chromedp.CSS(`#output[data-state="done"]`)),
		)
		return eval(t, readResult)
	}
	load := func(t *testing.T) time.Duration {
		t.Helper()
		start := time.Now()
		run(t, 3*time.Minute,
			chromedp.Navigate(srv.URL+"/"),
			chromedp.WaitReady(chromedp.CSS(`#status:not([data-state="loading"])`)),
		)
		st, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#status"), "data-state"))
		if err != nil || st.Value != "ready" {
			status, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#status")))
			t.Fatalf("the engine did not load: %s", status)
		}
		return time.Since(start)
	}

	loaded := load(t)
	status, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#status")))
	t.Logf("page and engine loaded in %v (%s)", loaded.Round(time.Millisecond), status)

	// For each format, the first example (in the page's order) that converts must give a
	// Bundle with a Patient; examples of bad input before it are expected to give errors.
	var adtFirst float64
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			var failed []string
			for _, ex := range byFormat[format] {
				run(t, 10*time.Second, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#examples button[data-name=%q]`, ex.Name))))
				r := convert(t)
				if ex.Name == "hl7v2/adt_a01.hl7" {
					adtFirst = r.TimingMs
				}
				if len(r.Errors) > 0 {
					failed = append(failed, fmt.Sprintf("%s: %s", ex.Name, r.Errors[0]))
					continue
				}
				if format == "fhir" { // the reverse direction: the page shows the legacy text
					ok := false
					for _, p := range legacyStart[ex.To] {
						ok = ok || strings.HasPrefix(strings.TrimSpace(r.Bundle), p)
					}
					if !ok {
						t.Errorf("%s → %s: the page shows %.60q", ex.Name, ex.To, r.Bundle)
					}
					t.Logf("%s: %s, converted in %.2f ms", ex.Name, r.Summary, r.TimingMs)
					return
				}
				checkBundle(t, ex.Name, r.Bundle)
				if r.TreeRows == 0 || !r.Patient {
					t.Errorf("%s: the JSON tree has %d rows, Patient shown: %v", ex.Name, r.TreeRows, r.Patient)
				}
				t.Logf("%s: %s, converted in %.2f ms", ex.Name, r.Summary, r.TimingMs)
				for _, f := range failed {
					t.Logf("(before it, as expected of bad input: %s)", f)
				}
				return
			}
			if len(failed) > 0 && strings.Contains(strings.Join(failed, "\n"), "not supported yet") {
				t.Skipf("the engine does not convert %s yet: %s", format, failed[0])
			}
			t.Errorf("no %s example converted:\n%s", format, strings.Join(failed, "\n"))
		})
	}

	t.Run("bad message, then a good one", func(t *testing.T) {
		bad, _ := json.Marshal("MSH|^~\\&|A|B|C|D|20240101||ADT^A01|X1|P|2.5.1\rpid|1||123\r")
		run(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const input = document.getElementById("input");
			input.value = %s;
			input.dispatchEvent(new Event("input"));
		})()`, bad)))
		r := convert(t)
		if r.Bundle != "" || len(r.Errors) != 1 {
			t.Fatalf("got a Bundle %.40q and errors %q; want one error", r.Bundle, r.Errors)
		}
		if !strings.Contains(r.Errors[0], "line 2, column 1") || !strings.Contains(r.Errors[0], "bad segment name") {
			t.Errorf("the error does not say where: %q", r.Errors[0])
		}
		run(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#examples button[data-name="hl7v2/adt_a01.hl7"]`)))
		r = convert(t)
		if len(r.Errors) > 0 {
			t.Errorf("after the bad message: errors %q", r.Errors)
		}
		checkBundle(t, "adt_a01.hl7", r.Bundle)
	})

	t.Run("timing", func(t *testing.T) {
		// The page's engine runs in a worker: timingMs is the time in the engine, roundTrip
		// adds posting the input to the worker and the result back.
		const n = 50
		type timing struct{ Engine, RoundTrip float64 }
		r, err := chromedp.Run(ctx, chromedp.Evaluate[timing](fmt.Sprintf(`(async () => {
			await window.fhirbridge.convert(document.getElementById("input").value); // not the first call
			const { examples } = await (await fetch("examples.json")).json();
			const text = examples.find((e) => e.name === "hl7v2/adt_a01.hl7").text;
			let engine = 0, roundTrip = 0;
			for (let i = 0; i < %d; i++) {
				const t0 = performance.now();
				const r = await window.fhirbridge.convert(text);
				roundTrip += performance.now() - t0;
				engine += r.timingMs;
				if (!r.bundle) throw new Error(r.errors[0].message);
			}
			return { engine: engine / %d, roundTrip: roundTrip / %d };
		})()`, n, n, n), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ADT_A01 (testdata/hl7v2/adt_a01.hl7) in Chromium: first convert %.2f ms, warm average %.2f ms (%.2f ms with the trip to the page's worker) over %d",
			adtFirst, r.Engine, r.RoundTrip, n)
	})

	t.Run("offline", func(t *testing.T) {
		// Wait until the service worker has stored the page and the engine, stop the server,
		// and load the page again: it must come from the service worker and convert.
		files, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => {
			await navigator.serviceWorker.ready;
			const cache = await caches.open("fhirbridge-playground-v1");
			for (let i = 0; i < 600; i++) {
				const have = await Promise.all(["fhirbridge.wasm", "fhirbridge.js", "wasm_exec.js", "index.html", "playground.js"].map((f) => cache.match(f)));
				if (have.every(Boolean)) return (await cache.keys()).length;
				await new Promise((r) => setTimeout(r, 100));
			}
			return 0;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil || files == 0 {
			t.Fatalf("the service worker did not store the playground (files %d): %v", files, err)
		}
		srv.Close()
		load(t)
		run(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#examples button[data-name="hl7v2/oru_r01.hl7"], #examples button[data-format="hl7v2"]`)))
		r := convert(t)
		if len(r.Errors) > 0 {
			t.Errorf("offline: errors %q", r.Errors)
		}
		checkBundle(t, "offline", r.Bundle)
	})
}

// checkBundle checks that text is a FHIR Bundle with a Patient in it.
func checkBundle(t *testing.T, name, text string) {
	t.Helper()
	var b struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(text), &b); err != nil {
		t.Fatalf("%s: the page's Bundle is not JSON: %v (%.80q)", name, err, text)
	}
	if b.ResourceType != "Bundle" {
		t.Fatalf("%s: resourceType %q, want Bundle", name, b.ResourceType)
	}
	for _, e := range b.Entry {
		if e.Resource.ResourceType == "Patient" {
			return
		}
	}
	t.Errorf("%s: no Patient among the Bundle's %d entries", name, len(b.Entry))
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return ""
	}
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}

func argsText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		if a.Description != "" {
			parts = append(parts, a.Description)
		} else {
			parts = append(parts, string(a.Value))
		}
	}
	return strings.Join(parts, " ")
}
