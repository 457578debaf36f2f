package server

import (
	"github.com/fhirbridge/fhirbridge/wasm/playground"

	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/fhirbridge/fhirbridge"
	"github.com/fhirbridge/fhirbridge/internal/params"
	"github.com/fhirbridge/fhirbridge/internal/problem"
)

// Handler returns the HTTP handler:
//
//	POST /convert        raw body; format from ?format=, else Content-Type, else detected;
//	                     ?bundleType= overrides the Bundle type. One message answers its
//	                     Bundle (application/fhir+json), several answer NDJSON.
//	                     FHIR input with ?to=hl7v2|ccda|edifact (and ?param.NAME=value for
//	                     the reverse mappings' params) answers the HL7 v2 message(s), the
//	                     C-CDA document or the EDIFACT interchange(s).
//	POST /$convert-data  a FHIR Parameters resource as the Microsoft FHIR-Converter takes it
//	                     (inputData, inputDataType Hl7v2, rootTemplate); answers the Bundle.
//	GET  /healthz        200 while serving, 503 while shutting down; never needs the token
//	GET  /metrics        Prometheus text format
//	POST /itk/report     NHS ITK (111 / IUC) SOAP requests: OK:<MessageID> or an ITK SOAP Fault
//	GET  /               the browser playground (static; conversions run in the browser;
//	                     the .wasm is included when `go generate ./wasm` ran before the build)
//
// Errors are FHIR OperationOutcomes: 400 for bad input (with its location), 401, 404, 405,
// 413, 415, and 500 without internal details.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /convert", s.handleConvert)
	mux.HandleFunc("POST /$convert-data", s.handleConvertData)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("POST /itk/report", s.handleITK)
	allow := map[string]string{"/convert": "POST", "/$convert-data": "POST", "/itk/report": "POST", "/healthz": "GET, HEAD", "/metrics": "GET, HEAD"}
	pg := playground.Handler()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if a, ok := allow[r.URL.Path]; ok {
			w.Header().Set("Allow", a)
			writeOutcome(w, http.StatusMethodNotAllowed, issue{Code: "not-supported", Diagnostics: r.Method + " is not allowed on " + r.URL.Path + " (" + a + ")"})
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			// The browser playground: static files; conversions run in the browser.
			pg.ServeHTTP(w, r)
			return
		}
		writeOutcome(w, http.StatusNotFound, issue{Code: "not-found", Diagnostics: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return s.wrap(mux)
}

// statusWriter records the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// wrap adds authentication, panic recovery, metrics and the access log.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		path := r.URL.Path
		switch path {
		case "/convert", "/$convert-data", "/healthz", "/metrics", "/itk/report":
		default:
			path = "other"
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "path", path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.metrics.errorKind("internal")
				if sw.code == 0 {
					writeOutcome(sw, http.StatusInternalServerError, issue{Code: "exception", Diagnostics: "internal error"})
				}
			}
			d := time.Since(start)
			s.metrics.request(path, sw.code, d)
			s.log.Info("http request", "method", r.Method, "path", path, "status", sw.code, "duration", d, "bytes", r.ContentLength, "remote", r.RemoteAddr)
		}()
		if s.cfg.Token != "" && path != "/healthz" && !(path == "other" && r.Method == http.MethodGet) && !s.authorized(r) {
			sw.Header().Set("WWW-Authenticate", `Bearer realm="fhirbridge"`)
			s.metrics.errorKind("auth")
			writeOutcome(sw, http.StatusUnauthorized, issue{Code: "login", Diagnostics: "a valid bearer token is required"})
			return
		}
		next.ServeHTTP(sw, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.Token)) == 1
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if s.isShuttingDown() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"shutting down"}`+"\n")
		return
	}
	io.WriteString(w, `{"status":"ok"}`+"\n")
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.WriteTo(w)
}

// formatFromContentType maps a media type to a format: "" for "detect", ok false for a
// media type fhirbridge does not read.
func formatFromContentType(ct string) (fhirbridge.Format, bool) {
	if ct == "" {
		return "", true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(mt) {
	case "x-application/hl7-v2+er7", "application/hl7-v2", "application/hl7-v2+er7", "application/x-hl7", "x-application/hl7":
		return fhirbridge.FormatHL7v2, true
	case "application/xml", "text/xml", "application/cda+xml", "application/hl7-cda+xml":
		return fhirbridge.FormatCDA, true
	case "application/edifact", "application/edi-x12", "application/x-edifact":
		return fhirbridge.FormatEDIFACT, true
	case "application/fhir+json", "application/json", "application/fhir+ndjson", "application/x-ndjson":
		return fhirbridge.FormatFHIR, true
	case "text/plain", "application/octet-stream":
		return "", true
	}
	return "", false
}

func parseFormat(s string) (fhirbridge.Format, bool) {
	switch strings.ToLower(s) {
	case "hl7v2", "hl7", "v2", "er7":
		return fhirbridge.FormatHL7v2, true
	case "cda", "ccda", "xml":
		return fhirbridge.FormatCDA, true
	case "edifact", "edi":
		return fhirbridge.FormatEDIFACT, true
	case "fhir", "json":
		return fhirbridge.FormatFHIR, true
	}
	return "", false
}

// readBody reads the whole body within the size limit, answering 413 when it is larger.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.metrics.errorKind("too-large")
			writeOutcome(w, http.StatusRequestEntityTooLarge, issue{Code: "too-long", Diagnostics: fmt.Sprintf("the request body is larger than %d bytes", s.cfg.MaxBody)})
			return nil, false
		}
		s.metrics.errorKind("read")
		writeOutcome(w, http.StatusBadRequest, issue{Code: "incomplete", Diagnostics: "the request body could not be read"})
		return nil, false
	}
	return body, true
}

func (s *Server) handleConvert(w http.ResponseWriter, r *http.Request) {
	format, ok := formatFromContentType(r.Header.Get("Content-Type"))
	if !ok {
		s.metrics.errorKind("media-type")
		writeOutcome(w, http.StatusUnsupportedMediaType, issue{Code: "not-supported",
			Diagnostics: fmt.Sprintf("unsupported Content-Type %q: send x-application/hl7-v2+er7, text/plain, or application/xml", r.Header.Get("Content-Type"))})
		return
	}
	if f := r.URL.Query().Get("format"); f != "" {
		if format, ok = parseFormat(f); !ok {
			writeOutcome(w, http.StatusBadRequest, issue{Code: "value", Diagnostics: fmt.Sprintf("unknown format %q (hl7v2, cda, edifact)", f)})
			return
		}
	}
	q := r.URL.Query()
	k := convKey{bundleType: q.Get("bundleType")}
	var ps map[string]string
	if to := q.Get("to"); to != "" && to != "fhir" {
		target, ok := parseFormat(to)
		if !ok {
			writeOutcome(w, http.StatusBadRequest, issue{Code: "value", Diagnostics: fmt.Sprintf("unknown target format %q (fhir, hl7v2, ccda, edifact)", to)})
			return
		}
		k.target = target
		ps = map[string]string{}
		for name, vs := range q {
			if p, ok := strings.CutPrefix(name, "param."); ok && p != "" && len(vs) > 0 {
				ps[p] = vs[0]
			}
		}
		k.params = params.Key(ps)
		if format == "" {
			format = fhirbridge.FormatFHIR
		}
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	s.convert(w, r, body, format, k, ps, "")
}

// outputTypes are the media types of the reverse direction's outputs.
var outputTypes = map[fhirbridge.Format]string{
	fhirbridge.FormatHL7v2:   "x-application/hl7-v2+er7",
	fhirbridge.FormatCDA:     "application/xml",
	fhirbridge.FormatEDIFACT: "application/edifact",
}

// convert converts body and writes the answer.
func (s *Server) convert(w http.ResponseWriter, r *http.Request, body []byte, format fhirbridge.Format, k convKey, params map[string]string, rootTemplate string) {
	conv, err := s.converter(k, params)
	if err != nil {
		writeOutcome(w, http.StatusBadRequest, issue{Code: "value", Diagnostics: err.Error()})
		return
	}
	detected := fhirbridge.Detect(body[:min(len(body), 512)])
	if len(bytes.TrimSpace(body)) == 0 {
		s.metrics.errorKind(string(problem.Parse))
		writeOutcome(w, http.StatusBadRequest, issue{Code: "required", Diagnostics: "the request holds no message"})
		return
	}
	if format != "" && detected != format {
		s.metrics.errorKind(string(problem.Parse))
		writeOutcome(w, http.StatusBadRequest, issue{Code: "structure", Expression: "line 1, column 1",
			Diagnostics: fmt.Sprintf("the body is not %s input (it does not start as one)", format)})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	var bundles [][]byte
	var issues []issue
	var mapping string
	for res, err := range conv.Convert(ctx, bytes.NewReader(body)) {
		if err != nil {
			if !problem.IsMessageError(err) {
				if ctx.Err() != nil {
					writeOutcome(w, http.StatusServiceUnavailable, issue{Code: "timeout", Diagnostics: "the conversion did not finish in time"})
					return
				}
				s.log.Error("convert failed", "err", err)
				s.metrics.errorKind(string(problem.Internal))
				writeOutcome(w, http.StatusInternalServerError, issue{Code: "exception", Diagnostics: "internal error"})
				return
			}
			p := problem.Describe(err)
			s.metrics.errorKind(string(p.Kind))
			var fe *fhirbridge.Error
			idx := 0
			if errors.As(err, &fe) {
				idx = fe.Index
			}
			code := "structure"
			if p.Kind == problem.Unsupported {
				code = "not-supported"
			} else if p.Kind == problem.Mapping {
				code = "processing"
			}
			diag := fmt.Sprintf("message %d", idx+1)
			if p.ControlID != "" {
				diag += fmt.Sprintf(" (control id %s)", p.ControlID)
			}
			if loc := p.Location(); loc != "" {
				diag += ", " + loc
			}
			issues = append(issues, issue{Code: code, Expression: p.Expression(), Diagnostics: diag + ": " + p.Reason})
			continue
		}
		mapping = res.Mapping
		if res.Bundle == nil {
			bundles = append(bundles, res.Output)
		} else {
			bundles = append(bundles, res.JSON())
		}
	}
	if len(issues) > 0 {
		writeOutcome(w, http.StatusBadRequest, issues...)
		return
	}
	if len(bundles) == 0 {
		writeOutcome(w, http.StatusBadRequest, issue{Code: "required", Diagnostics: "the request holds no message"})
		return
	}
	s.metrics.convertedN("http", len(bundles))
	if mapping != "" {
		w.Header().Set("X-Fhirbridge-Mapping", mapping)
	}
	if rootTemplate != "" && mapping != "" && !strings.EqualFold(rootTemplate, mapping) {
		w.Header().Set("Warning", fmt.Sprintf(`299 fhirbridge "rootTemplate %s ignored; converted with %s"`, sanitizeHeader(rootTemplate), mapping))
	}
	if k.target != "" {
		// The reverse direction: HL7 v2 messages and EDIFACT interchanges follow one another;
		// CDA documents are one per request.
		if k.target == fhirbridge.FormatCDA && len(bundles) > 1 {
			writeOutcome(w, http.StatusBadRequest, issue{Code: "not-supported", Diagnostics: fmt.Sprintf("the request holds %d resources; send one per request for CDA output", len(bundles))})
			return
		}
		w.Header().Set("Content-Type", outputTypes[k.target])
		for i, b := range bundles {
			if i > 0 && k.target == fhirbridge.FormatEDIFACT {
				w.Write([]byte{'\n'})
			}
			w.Write(b)
		}
		return
	}
	if len(bundles) == 1 {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Write(bundles[0])
		return
	}
	w.Header().Set("Content-Type", "application/fhir+ndjson")
	for _, b := range bundles {
		w.Write(b)
		w.Write([]byte{'\n'})
	}
}

func sanitizeHeader(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' {
			return '_'
		}
		return r
	}, s[:min(len(s), 64)])
}

// parameters is the FHIR Parameters resource of a $convert-data request.
type parameters struct {
	ResourceType string `json:"resourceType"`
	Parameter    []struct {
		Name        string  `json:"name"`
		ValueString *string `json:"valueString"`
	} `json:"parameter"`
}

func (s *Server) handleConvertData(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/json" && mt != "application/fhir+json" {
			s.metrics.errorKind("media-type")
			writeOutcome(w, http.StatusUnsupportedMediaType, issue{Code: "not-supported", Diagnostics: fmt.Sprintf("unsupported Content-Type %q: send a FHIR Parameters resource as application/fhir+json or application/json", ct)})
			return
		}
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	var p parameters
	if err := json.Unmarshal(body, &p); err != nil || p.ResourceType != "Parameters" {
		s.metrics.errorKind(string(problem.Parse))
		writeOutcome(w, http.StatusBadRequest, issue{Code: "structure", Diagnostics: "the body must be a FHIR Parameters resource (JSON)"})
		return
	}
	var input, dataType, root, bundleType string
	var haveInput bool
	for _, q := range p.Parameter {
		v := ""
		if q.ValueString != nil {
			v = *q.ValueString
		}
		switch q.Name {
		case "inputData":
			input, haveInput = v, q.ValueString != nil
		case "inputDataType":
			dataType = v
		case "rootTemplate":
			root = v
		case "bundleType":
			bundleType = v
		case "templateCollectionReference":
			// The converter's own mappings are used; a template image is not.
		}
	}
	if !haveInput {
		writeOutcome(w, http.StatusBadRequest, issue{Code: "required", Expression: "Parameters.parameter.where(name='inputData')", Diagnostics: "inputData (valueString) is required"})
		return
	}
	var format fhirbridge.Format
	switch strings.ToLower(dataType) {
	case "hl7v2":
		format = fhirbridge.FormatHL7v2
	case "ccda":
		format = fhirbridge.FormatCDA
	case "":
		writeOutcome(w, http.StatusBadRequest, issue{Code: "required", Expression: "Parameters.parameter.where(name='inputDataType')", Diagnostics: "inputDataType is required (Hl7v2)"})
		return
	default:
		writeOutcome(w, http.StatusBadRequest, issue{Code: "not-supported", Expression: "Parameters.parameter.where(name='inputDataType')", Diagnostics: fmt.Sprintf("inputDataType %q is not supported (Hl7v2)", dataType)})
		return
	}
	s.convert(w, r, []byte(input), format, convKey{bundleType: bundleType}, nil, root)
}

// issue is one OperationOutcome issue.
type issue struct {
	Code        string // FHIR IssueType
	Diagnostics string
	Expression  string
}

// writeOutcome writes an OperationOutcome with status code.
func writeOutcome(w http.ResponseWriter, status int, issues ...issue) {
	type jsonIssue struct {
		Severity    string   `json:"severity"`
		Code        string   `json:"code"`
		Diagnostics string   `json:"diagnostics,omitempty"`
		Expression  []string `json:"expression,omitempty"`
	}
	oo := struct {
		ResourceType string      `json:"resourceType"`
		Issue        []jsonIssue `json:"issue"`
	}{ResourceType: "OperationOutcome"}
	for _, is := range issues {
		ji := jsonIssue{Severity: "error", Code: is.Code, Diagnostics: is.Diagnostics}
		if is.Expression != "" {
			ji.Expression = []string{is.Expression}
		}
		oo.Issue = append(oo.Issue, ji)
	}
	b, _ := json.Marshal(oo)
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}
