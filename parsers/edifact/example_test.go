package edifact_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/fhirbridge/fhirbridge/parsers/edifact"
)

func Example() {
	in := "UNA:+.? '\nUNB+UNOC:3+SENDER:80+RECEIVER:80+230715:0930+77++MEDRPT'\n" +
		"UNH+1+MEDRPT:0:1:RT:NHS003'\nNAD+SLA+++ST MARY?'S HOSPITAL'\nUNT+3+1'\nUNZ+1+77'\n"
	rd := edifact.NewReader(strings.NewReader(in))
	for {
		m, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			continue
		}
		typ, _, _, _, assoc := m.Type()
		fmt.Println(m.Interchange.Sender, typ, assoc, m.Segment(1).Value(4, 1))
	}
	// Output: SENDER MEDRPT NHS003 ST MARY'S HOSPITAL
}
