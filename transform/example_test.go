package transform_test

import (
	"context"
	"fmt"

	"github.com/fhirbridge/fhirbridge/fhir"
	"github.com/fhirbridge/fhirbridge/parsers/hl7v2"
	"github.com/fhirbridge/fhirbridge/transform"
)

func Example() {
	mapping := `
message: PATIENTS
format: hl7v2
match: [ADT^A04]
rules:
  - from: PID
    resource: Patient
    rules:
      - {from: PID-3.1, to: "identifier[+].value"}
      - {from: PID-5.1, to: name.family}
      - {from: PID-7, to: birthDate}
      - {from: PID-8, to: gender, codes: Sex}
---
codes: Sex
map: {F: female, M: male}
`
	prog, err := transform.Compile([]transform.File{{Name: "patients.yaml", Data: []byte(mapping)}},
		transform.WithSchema(hl7v2.Schema{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, _ := hl7v2.Parse([]byte("MSH|^~\\&|||||20240101||ADT^A04|1|P|2.5\rPID|1||4711||Rivera^Ana||19900412|F\r"))
	res, err := prog.Run(context.Background(), prog.Find("hl7v2", "ADT^A04"), hl7v2.NewTree(msg, nil).Root(), transform.RunOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(fhir.AppendResourceJSON(nil, res.Resources[0])))
	// Output: {"resourceType":"Patient","identifier":[{"value":"4711"}],"name":[{"family":"Rivera"}],"gender":"female","birthDate":"1990-04-12"}
}
