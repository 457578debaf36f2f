package server

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestITKReport(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/nhs-cda/*.xml")
	var soap []byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte("Envelope")) && bytes.Contains(b, []byte("MessageID")) {
			soap = b
			break
		}
	}
	if soap == nil {
		t.Skip("no SOAP fixture in testdata/nhs-cda")
	}
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	post := func(body []byte) (int, string) {
		resp, err := http.Post(srv.URL+"/itk/report", "text/xml", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := post(soap)
	if code != 200 || !strings.Contains(body, "OK:") {
		t.Errorf("valid request: %d %s", code, body)
	}
	code, body = post([]byte("<not xml"))
	if code != 500 || !strings.Contains(body, "1000") {
		t.Errorf("invalid XML: %d %s", code, body)
	}
}
