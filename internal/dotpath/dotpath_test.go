package dotpath

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name, in    string
		open, close byte
		want        []string
		wantErr     bool
	}{
		{"plain", "a.b.c", '(', ')', []string{"a", "b", "c"}, false},
		{"parentheses", "extension('http://x.org/a.b').value", '(', ')', []string{"extension('http://x.org/a.b')", "value"}, false},
		{"brackets", "patches[value.url='https://x.org'].op", '[', ']', []string{"patches[value.url='https://x.org']", "op"}, false},
		{"spaces trimmed", " a . b ", '(', ')', []string{"a", "b"}, false},
		{"close in quotes", "a[x=']'].b", '[', ']', []string{"a[x=']']", "b"}, false},
		{"unbalanced close", "a].b", '[', ']', nil, true},
		{"unclosed", "a[x='1'.b", '[', ']', nil, true},
		{"unclosed quote", "a('x.b", '(', ')', nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.in, tt.open, tt.close)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
