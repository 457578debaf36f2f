package hl7v2_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
)

// Read a stream of messages and pick values by path and by structure.
func Example() {
	input := "MSH|^~\\&|LAB|HOSP|||20240101120000||ORU^R01^ORU_R01|MSG1|P|2.5.1\n" +
		"PID|1||12345^^^HOSP^MR||Doe^Jane~Roe^Jane||19800101|F\n" +
		"OBX|1|TX|NOTE^Note^L||Fasting \\T\\ rested\\.br\\see chart\n" +
		"\n" +
		"MSH|^~\\&|LAB|HOSP|||20240101120500||ORU^R01^ORU_R01|MSG2|P|2.5.1\n" +
		"PID|1||67890^^^HOSP^MR||Roe^Richard\n"
	r := hl7v2.NewReader(strings.NewReader(input))
	for {
		m, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err) // a *hl7v2.ParseError; the next Read would go on
		}
		code, event, _ := m.Type()
		fmt.Println(m.ControlID(), code, event, "line", m.Line())
		fmt.Println("  family name:", m.Get(hl7v2.MustParsePath("PID-5.1")))
		pid, _ := m.Find("PID", 1)
		names := pid.Field(5)
		for i := 1; i <= names.NumReps(); i++ {
			fmt.Printf("  name %d: %s\n", i, names.Rep(i).Text())
		}
		if note := m.Get(hl7v2.MustParsePath("OBX-5")); note != "" {
			fmt.Printf("  note: %q\n", note)
		}
	}
	// Output:
	// MSG1 ORU R01 line 1
	//   family name: Doe
	//   name 1: Doe^Jane
	//   name 2: Roe^Jane
	//   note: "Fasting & rested\nsee chart"
	// MSG2 ORU R01 line 5
	//   family name: Roe
	//   name 1: Roe^Richard
}

// Errors name the place; reading goes on with the next message.
func ExampleParseError() {
	input := "MSH|^~\\&|A||||||ADT^A01|OK1|P|2.5\r" +
		"MSH|^~\\&|A||||||ADT^A01|BAD|P|2.5\rPID|1\rpid|2\r" +
		"MSH|^~\\&|A||||||ADT^A01|OK2|P|2.5\r"
	r := hl7v2.NewReader(strings.NewReader(input))
	for {
		m, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(m.ControlID())
	}
	// Output:
	// OK1
	// hl7v2: message 2, line 4, column 1: bad segment name "pid"
	// OK2
}

func ExampleParse() {
	m, err := hl7v2.Parse([]byte("MSH|^~\\&|A|B|C|D|20240101||ADT^A01^ADT_A01|X1|P|2.5.1\rPID|1||42^^^H^MR\r"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Segment(1).Name(), m.Segment(1).Field(3).Rep(1).Component(1).Text())
	// Output: PID 42
}

// Build a message field by field; values are escaped.
func ExampleBuilder() {
	b := hl7v2.NewBuilder(hl7v2.DefaultDelimiters)
	b.Set("MSH-9.1", "ADT")
	b.Set("MSH-9.2", "A08")
	b.Set("MSH-10", "42")
	b.Set("PID-5.1", "O'Brien & Sons")
	b.Set("PID-5.2", "Ann")
	b.Set("PID-5[2].1", "Alias")
	fmt.Println(strings.ReplaceAll(string(b.Bytes()), "\r", "\n"))
	// Output:
	// MSH|^~\&|||||||ADT^A08|42
	// PID|||||O'Brien \T\ Sons^Ann~Alias
}

// Write messages in MLLP frames, as an MLLP client or server does.
func ExampleWriter() {
	m, _ := hl7v2.Parse([]byte("MSH|^~\\&|A||||||ADT^A01|1|P|2.5\r"))
	w := hl7v2.NewWriter(os.Stdout)
	w.Terminator = []byte("\n") // for the example's output; the default is "\r"
	w.Write(m)
	w.Flush()
	// Output: MSH|^~\&|A||||||ADT^A01|1|P|2.5
}

func ExampleNewAck() {
	m, _ := hl7v2.Parse([]byte("MSH|^~\\&|LAB|HOSP|EHR|CLINIC|20240101||ORU^R01^ORU_R01|MSG1|P|2.5.1\r"))
	ack := hl7v2.NewAck(m, "AA", "ACK1", "20240101120001")
	fmt.Println(strings.ReplaceAll(string(ack.Bytes()), "\r", "\n"))
	// Output:
	// MSH|^~\&|EHR|CLINIC|LAB|HOSP|20240101120001||ACK^R01^ACK|ACK1|P|2.5.1
	// MSA|AA|MSG1
}

func ExampleUnescape() {
	text := hl7v2.Unescape(nil, []byte(`Fasting \T\ rested\.br\caf\XE9\`), hl7v2.DefaultDelimiters)
	fmt.Printf("%q\n", text)
	// Output: "Fasting & rested\ncafé"
}

func ExampleParsePath() {
	p, err := hl7v2.ParsePath("PID[2]-5[3].1.2")
	fmt.Println(p.Segment, p.SegmentRep, p.Field, p.Rep, p.Component, p.Subcomponent, err, p)
	_, err = hl7v2.ParsePath("PID-x")
	fmt.Println(err)
	// Output:
	// PID 2 5 3 1 2 <nil> PID[2]-5[3].1.2
	// hl7v2: bad path "PID-x": field must be a number
}
