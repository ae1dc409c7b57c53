package provider

import (
	"errors"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
)

// nonEmptyString is the state-check form of resource.TestCheckResourceAttrSet
// on a string attribute: the value is a string (so not null) and not empty.
// knownvalue.NotNull alone would also accept "", which TestCheckResourceAttrSet
// rejects.
func nonEmptyString() knownvalue.Check {
	return knownvalue.StringFunc(func(v string) error {
		if v == "" {
			return errors.New("expected a non-empty string")
		}
		return nil
	})
}

func TestNonEmptyString(t *testing.T) {
	check := nonEmptyString()
	if err := check.CheckValue("2024-01-01T00:00:00Z"); err != nil {
		t.Errorf("a non-empty string: %v", err)
	}
	for _, v := range []any{"", nil, true} {
		if err := check.CheckValue(v); err == nil {
			t.Errorf("%#v passed", v)
		}
	}
}
