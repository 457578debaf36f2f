package transform

import (
	"reflect"
	"strings"
	"testing"
)

func TestLocalTime(t *testing.T) {
	tests := []struct {
		name, in, zone, want string
	}{
		{"summer offset kept", "2023-07-14T12:15:00+01:00", "Europe/London", "20230714121500"},
		{"UTC to BST", "2023-07-14T11:15:00Z", "Europe/London", "20230714121500"},
		{"UTC to GMT", "2010-02-25T15:41:00Z", "Europe/London", "20100225154100"},
		{"across midnight", "2023-07-14T23:30:00Z", "Europe/London", "20230715003000"},
		{"date kept", "1970-01-01", "Europe/London", "19700101"},
		{"year-month kept", "1970-01", "Europe/London", "197001"},
		{"compact without offset kept", "202307141215", "Europe/London", "202307141215"},
		{"not a time", "soon", "Europe/London", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := localTime(tt.in, tt.zone)
			if err != nil || got != tt.want {
				t.Errorf("localTime(%q, %q) = %q, %v; want %q", tt.in, tt.zone, got, err, tt.want)
			}
		})
	}
	if _, err := localTime("2023-07-14T11:15:00Z", "Mars/Olympus"); err == nil {
		t.Error("an unknown zone gave no error")
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		width int
		want  []string
	}{
		{"short", "Results repeated", 70, []string{"Results repeated"}},
		{"empty", "", 70, nil},
		{"at spaces", "aaa bbb ccc", 7, []string{"aaa bbb", "ccc"}},
		{"space at the limit", "aaaa bbbb", 4, []string{"aaaa", "bbbb"}},
		{"long word cut", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"runes, not bytes", "ééé ééé", 3, []string{"ééé", "ééé"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(tt.in, tt.width)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
			}
			if !strings.Contains(tt.name, "cut") && strings.Join(got, " ") != tt.in {
				t.Errorf("wrap(%q): the lines joined with spaces are %q", tt.in, strings.Join(got, " "))
			}
		})
	}
}
