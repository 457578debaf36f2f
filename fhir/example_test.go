package fhir_test

import (
	"fmt"

	"github.com/fhirbridge/fhirbridge/fhir"
)

// newObject returns an object of the named type with the given primitive or complex members;
// a real mapping engine resolves the elements once, when it compiles a mapping.
func newObject(typ string, members ...any) *fhir.Object {
	o := fhir.NewObject(fhir.LookupType(typ))
	fill(o, members...)
	return o
}

func fill(o *fhir.Object, members ...any) {
	for i := 0; i < len(members); i += 2 {
		e := o.Type.Element(members[i].(string))
		switch v := members[i+1].(type) {
		case string:
			o.Add(e, fhir.MakeString(v))
		case *fhir.Object:
			o.Add(e, fhir.MakeObject(v))
		case *fhir.Resource:
			o.Add(e, fhir.MakeRef(v))
		case fhir.Value:
			o.Add(e, v)
		}
	}
}

func Example() {
	patient := fhir.NewResource("Patient")
	fill(&patient.Object,
		"identifier", newObject("Identifier", "system", "urn:oid:1.2.36.146.595.217.0.1", "value", "12345"),
		"name", newObject("HumanName", "family", "Chalmers", "given", "Peter", "given", "James"),
		"gender", "male",
		"birthDate", "1974-12-25")

	obs := fhir.NewResource("Observation")
	fill(&obs.Object,
		"status", "final",
		"code", newObject("CodeableConcept",
			"coding", newObject("Coding", "system", "http://loinc.org", "code", "8867-4", "display", "Heart rate")),
		"subject", patient, // a reference, written once the Patient has its id
		"effectiveDateTime", "2024-05-01T10:30:00+02:00",
		"valueQuantity", newObject("Quantity",
			"value", fhir.MakeNumber("72"), "unit", "beats/minute",
			"system", "http://unitsofmeasure.org", "code", "/min"))

	b, err := fhir.Assemble([]*fhir.Resource{patient, obs}, fhir.AssembleOptions{Type: fhir.Transaction})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b.AppendJSONIndent(nil, "  ")))
	// Output:
	// {
	//   "resourceType": "Bundle",
	//   "id": "7470b057-45a7-5c2b-9639-f95c25e355da",
	//   "type": "transaction",
	//   "entry": [
	//     {
	//       "fullUrl": "urn:uuid:18b89f25-7305-5edc-9d9a-a80a16b35eee",
	//       "resource": {
	//         "resourceType": "Patient",
	//         "id": "18b89f25-7305-5edc-9d9a-a80a16b35eee",
	//         "identifier": [
	//           {
	//             "system": "urn:oid:1.2.36.146.595.217.0.1",
	//             "value": "12345"
	//           }
	//         ],
	//         "name": [
	//           {
	//             "family": "Chalmers",
	//             "given": [
	//               "Peter",
	//               "James"
	//             ]
	//           }
	//         ],
	//         "gender": "male",
	//         "birthDate": "1974-12-25"
	//       },
	//       "request": {
	//         "method": "POST",
	//         "url": "Patient",
	//         "ifNoneExist": "identifier=urn:oid:1.2.36.146.595.217.0.1|12345"
	//       }
	//     },
	//     {
	//       "fullUrl": "urn:uuid:c2947898-a42c-5a7e-ad97-48c866a457aa",
	//       "resource": {
	//         "resourceType": "Observation",
	//         "id": "c2947898-a42c-5a7e-ad97-48c866a457aa",
	//         "status": "final",
	//         "code": {
	//           "coding": [
	//             {
	//               "system": "http://loinc.org",
	//               "code": "8867-4",
	//               "display": "Heart rate"
	//             }
	//           ]
	//         },
	//         "subject": {
	//           "reference": "urn:uuid:18b89f25-7305-5edc-9d9a-a80a16b35eee"
	//         },
	//         "effectiveDateTime": "2024-05-01T10:30:00+02:00",
	//         "valueQuantity": {
	//           "value": 72,
	//           "unit": "beats/minute",
	//           "system": "http://unitsofmeasure.org",
	//           "code": "/min"
	//         }
	//       },
	//       "request": {
	//         "method": "POST",
	//         "url": "Observation"
	//       }
	//     }
	//   ]
	// }
}

func ExampleParseResource() {
	r, err := fhir.ParseResource([]byte(`{"resourceType":"Patient","id":"p1",
		"name":[{"family":"Chalmers","given":["Peter",null],
		"_given":[null,{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}]}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Type.Name, r.ID)
	fmt.Println(string(fhir.AppendResourceJSON(nil, r)))

	_, err = fhir.ParseResource([]byte(`{"resourceType":"Patient","name":[{"given":["Peter",42]}]}`))
	fmt.Println(err)
	// Output:
	// Patient p1
	// {"resourceType":"Patient","id":"p1","name":[{"family":"Chalmers","given":["Peter",null],"_given":[null,{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}]}]}
	// offset 52: Patient.name[0].given[1]: wrong JSON kind: expected a string, found a number
}

func ExampleValidate() {
	r, err := fhir.ParseResource([]byte(`{"resourceType":"Observation","status":"done",
		"valueString":"high","subject":{"reference":"Practitioner/1"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, issue := range fhir.Validate(r) {
		fmt.Println(issue)
	}
	// Output:
	// error Observation.status: code "done" is not in the required value set http://hl7.org/fhir/ValueSet/observation-status
	// warning Observation.subject: reference to Practitioner, expected Patient or Group or Device or Location
	// error Observation: missing required element code (min 1, found 0)
}

func ExampleLookupType() {
	t := fhir.LookupType("Observation")
	e := t.Element("valueQuantity")
	fmt.Println(e.Name, e.Choice, e.Type, e.Min, e.Max, e.List())
	for i, v := range t.Choices("effective") {
		if i > 0 {
			fmt.Print(" ")
		}
		fmt.Print(v.Name)
	}
	fmt.Println()
	status := t.Element("status")
	fmt.Println(status.BindingURL, status.Binding)
	// Output:
	// valueQuantity value Quantity 0 1 false
	// effectiveDateTime effectivePeriod effectiveTiming effectiveInstant
	// http://hl7.org/fhir/ValueSet/observation-status [registered preliminary final amended corrected cancelled entered-in-error unknown]
}
