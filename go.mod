module github.com/fhirbridge/fhirbridge

go 1.26

require (
	github.com/antchfx/xmlquery v1.5.2
	github.com/expr-lang/expr v1.17.8
	github.com/sebdah/goldie/v2 v2.8.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/antchfx/xpath v1.3.9 // indirect
	github.com/golang/groupcache v0.0.0-20210331224755-41bb18bfe9da // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/sergi/go-diff v1.0.0 // indirect
	golang.org/x/net v0.33.0 // indirect
	golang.org/x/text v0.21.0 // indirect
)
