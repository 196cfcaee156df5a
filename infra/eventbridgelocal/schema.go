package eventbridgelocal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema checks events against the JSON Schema of the domain events
// (events.schema.json), the document the ERP's developers read.
type Schema struct{ s *jsonschema.Schema }

// LoadSchema compiles the schema at path, formats asserted.
func LoadSchema(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("urn:creditanalysis:events", doc); err != nil {
		return nil, err
	}
	s, err := c.Compile("urn:creditanalysis:events")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Schema{s}, nil
}

// Validate checks one event as delivered.
func (s *Schema) Validate(e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.s.Validate(v)
}
