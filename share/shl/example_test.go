package shl_test

import (
	"errors"
	"fmt"

	"github.com/healthwallet/healthwallet/share/shl"
)

// A link from the HL7 specification's "Example SMART Health Link Generation".
func ExampleParseLink() {
	p, err := shl.ParseLink("https://viewer.example.org#shlink:/eyJ1cmwiOiJodHRwczovL2Voci5leGFtcGxlLm9yZy9xci9ZOXh3a1VkdG1OOXd3b0pvTjNmZkpJaFgyVUd2Q0wxSm5sUFZOTDNrRFdNL20iLCJmbGFnIjoiTFAiLCJrZXkiOiJyeFRnWWxPYUtKUEZ0Y0VkMHFjY2VOOHdFVTRwOTRTcUF3SVdRZTZ1WDdRIiwibGFiZWwiOiJCYWNrLXRvLXNjaG9vbCBpbW11bml6YXRpb25zIGZvciBPbGl2ZXIgQnJvd24ifQ")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.URL)
	fmt.Println(p.Label)
	fmt.Println("passcode needed:", p.Has(shl.FlagPasscode))
	// Output:
	// https://ehr.example.org/qr/Y9xwkUdtmN9wwoJoN3ffJIhX2UGvCL1JnlPVNL3kDWM/m
	// Back-to-school immunizations for Oliver Brown
	// passcode needed: true
}

func ExamplePayload_Check() {
	p := shl.Payload{URL: "https://keeper.example.org/shl/x", Key: "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q", Flag: "PU"}
	err := p.Check()
	fmt.Println(err)
	fmt.Println(errors.Is(err, shl.ErrFlag))
	// Output:
	// shl: payload flags P and U exclude each other: bad flag
	// true
}

func ExampleEncrypt() {
	key := make([]byte, shl.KeySize) // use the bytes of shl.NewKey in real code
	jwe, err := shl.Encrypt(key, "application/fhir+json", []byte(`{"resourceType":"Bundle"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	cty, plain, err := shl.Decrypt(key, jwe)
	fmt.Println(cty, string(plain), err)
	// Output:
	// application/fhir+json {"resourceType":"Bundle"} <nil>
}
