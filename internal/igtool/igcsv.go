package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// table is one IG mapping sheet: two header rows (section bands, then column names), then data.
type table struct {
	file   string
	header []string   // the column names (second header row), trimmed
	rows   [][]string // data rows, each padded to the header's width
}

func readTable(path string) (*table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("%s: fewer than two header rows", filepath.Base(path))
	}
	t := &table{file: path}
	for _, h := range recs[1] {
		t.header = append(t.header, strings.TrimSpace(strings.ReplaceAll(h, "\n", " ")))
	}
	for _, rec := range recs[2:] {
		for len(rec) < len(t.header) {
			rec = append(rec, "")
		}
		t.rows = append(t.rows, rec)
	}
	return t, nil
}

// cols returns the indexes of the columns named name, in order.
func (t *table) cols(name string) []int {
	var out []int
	for i, h := range t.header {
		if strings.EqualFold(h, name) {
			out = append(out, i)
		}
	}
	return out
}

// cell returns row[i] trimmed, or "" when i is out of range.
func cell(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// igCommit reads the HL7/v2-to-fhir commit the CSVs were taken at from the corpus MANIFEST.tsv.
func igCommit(igDir string) (string, error) {
	f, err := os.Open(filepath.Join(igDir, "MANIFEST.tsv"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	col := -1
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if col < 0 {
			for i, h := range fs {
				if h == "commit" {
					col = i
				}
			}
			if col < 0 {
				return "", fmt.Errorf("MANIFEST.tsv has no commit column")
			}
			continue
		}
		if col < len(fs) && fs[col] != "" {
			return fs[col], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("MANIFEST.tsv names no commit")
}

// sheetName extracts a map's name from an IG file name:
// "HL7 Concept Map_ AdministrativeSex - Sheet1.csv" → "AdministrativeSex",
// "HL7 Segment - FHIR R4_ PID[Patient] - PID.csv" → "PID[Patient]".
func sheetName(file string) string {
	s := strings.TrimSuffix(filepath.Base(file), ".csv")
	if i := strings.Index(s, "_ "); i >= 0 {
		s = s[i+2:]
	}
	if i := strings.LastIndex(s, " - "); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
