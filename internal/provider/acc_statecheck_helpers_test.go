package provider

import (
	"errors"

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
