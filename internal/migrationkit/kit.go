// Package migrationkit holds the OutSystems Migration Kit's domain rules,
// written once for everything that needs them: the provider checks them at
// plan time, the sandbox enforces them as the kit's assessment tool and
// code migrations do.
//
// It knows the kit's asset types and their names on the wire and in
// Terraform, the rules an O11 application mapping must follow
// (CheckMapping), how mapping names compare (SameName) and the order in
// which the assets of a code migration are published (PlanPublishOrder).
// It does no input or output, and it words no messages: callers turn its
// findings into the messages their users see.
package migrationkit

import (
	"slices"
	"strings"
)

// MaxModulesPerAsset is the Migration Kit's limit of O11 modules per ODC
// asset.
const MaxModulesPerAsset = 20

// Asset types as the kit's contract names them.
const (
	AssetWebApplication    = "WebApplication"
	AssetMobileApplication = "MobileApplication"
	AssetLowCodeLibrary    = "LowCodeLibrary"
)

// AssetTypes are the contract's asset types, in the contract's order.
var AssetTypes = []string{AssetWebApplication, AssetMobileApplication, AssetLowCodeLibrary}

// Asset types as the provider's asset_type attribute names them.
const (
	ResourceWebApp    = "web_app"
	ResourceMobileApp = "mobile_app"
	ResourceLibrary   = "library"
)

// ResourceAssetTypes maps the provider's asset_type values to the
// contract's.
var ResourceAssetTypes = map[string]string{
	ResourceWebApp:    AssetWebApplication,
	ResourceMobileApp: AssetMobileApplication,
	ResourceLibrary:   AssetLowCodeLibrary,
}

// ResourceAssetType returns the provider's name of a contract asset type,
// or the contract's name when it has none.
func ResourceAssetType(wire string) string {
	for k, v := range ResourceAssetTypes {
		if v == wire {
			return k
		}
	}
	return wire
}

// O11 application kinds and module types the rules look at.
const (
	KindMobile          = "Mobile"
	ModuleTypeLibrary   = "Library"
	ModuleTypeExtension = "Extension"
)

// LibraryOnly reports whether modules of these types make a library-only
// application: every module is a Library.
func LibraryOnly(moduleTypes []string) bool {
	return !slices.ContainsFunc(moduleTypes, func(t string) bool { return t != ModuleTypeLibrary })
}

// SameName reports whether two mapping names are the same name: mapping
// names are unique ignoring letter case.
func SameName(a, b string) bool { return strings.EqualFold(a, b) }

// Ready reports whether a mapping status lets its asset be migrated:
// Ready for ODC, or Change in ODC.
func Ready(status string) bool { return status == StatusReadyForOdc || status == StatusChangeInOdc }

// Mapping statuses of the contract.
const (
	StatusAssessing   = "Assessing"
	StatusReadyForOdc = "ReadyForOdc"
	StatusChangeInOdc = "ChangeInOdc"
	StatusNotReady    = "NotReady"
)
