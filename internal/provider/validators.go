package provider

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

var guidRegexp = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// guidValidator checks a key is a GUID (8-4-4-4-12 hexadecimal).
func guidValidator(what string) validator.String {
	return stringvalidator.RegexMatches(guidRegexp,
		fmt.Sprintf("must be the %s: a GUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301. Look it up by name with the outsystems_lifetime_* data sources", what))
}

// lifeTimeVersionRegexp is a LifeTime application version: 1 to 4 dotted numbers.
var lifeTimeVersionRegexp = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,9}){0,3}$`)
