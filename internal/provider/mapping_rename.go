package provider

// `outsystems_code_migration.assets` is keyed by the names this
// configuration gives the mappings (what `assets[outsystems_app_mapping.x.name]`
// indexes by); each asset's `name` is the ODC asset's own name. A mapping
// renamed in the plan therefore moves its asset to the new key: for a new
// migration the plan shows the new name (the tool still holds the old one
// until the mapping's update is applied), and for a migration already made
// the plan moves the key in place, migrating nothing again.

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// plannedNameMap holds planned mapping names by lower-case mapping key.
type plannedNameMap map[string]types.String

// registerPlannedName records the name the plan of an existing mapping
// gives it (unknown when the configuration does not know it yet). Terraform
// plans a mapping before the code migrations that reference its id, so
// their plans key the assets by it (plannedName).
func (d *providerData) registerPlannedName(id string, name types.String) {
	if d == nil || id == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.plannedNames == nil {
		d.plannedNames = plannedNameMap{}
	}
	d.plannedNames[strings.ToLower(id)] = name
}

// plannedName returns the name this process planned for the mapping of id,
// and false when it planned none (a mapping not in this configuration, or
// not changed in an apply).
func (d *providerData) plannedName(id string) (types.String, bool) {
	if d == nil {
		return types.StringNull(), false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.plannedNames[strings.ToLower(id)]
	return n, ok
}

// renamePlanned re-keys the assets a new migration will produce by the
// names this plan gives their mappings (the readiness answer still has the
// names the tool holds before the mappings' updates apply). It returns
// false when a mapping's planned name is not known yet: the assets' keys
// are then unknown until the apply.
func (d *providerData) renamePlanned(planned map[string]*plannedAsset) (map[string]*plannedAsset, bool) {
	out := make(map[string]*plannedAsset, len(planned))
	for name, p := range planned {
		if n, ok := d.plannedName(p.mappingID); ok {
			if n.IsUnknown() || n.IsNull() {
				return nil, false
			}
			name = n.ValueString()
		}
		out[name] = p
	}
	return out, true
}

// assetMove is one asset whose mapping this plan renames.
type assetMove struct{ from, to, assetName, assetKey string }

// rekeyAssets moves each asset (and its entry in publish_order) to the
// name the plan gives its mapping (nameOf by mapping id; false when the
// plan has none: the key stays). The moved assets keep every value. When a
// planned name is unknown, assets and publish_order become unknown.
func rekeyAssets(assets types.Map, order types.List, nameOf func(mappingID string) (types.String, bool)) (types.Map, types.List, []assetMove, diag.Diagnostics) {
	var diags diag.Diagnostics
	if assets.IsNull() || assets.IsUnknown() {
		return assets, order, nil, diags
	}
	out := make(map[string]attr.Value, len(assets.Elements()))
	newName := map[string]string{}
	var moves []assetMove
	for name, v := range assets.Elements() {
		obj, ok := v.(types.Object)
		if !ok {
			out[name] = v
			continue
		}
		at := obj.Attributes()
		id, _ := at["mapping_id"].(types.String)
		planned, found := nameOf(id.ValueString())
		switch {
		case !found || planned.IsNull():
		case planned.IsUnknown():
			return types.MapUnknown(migratedAssetType), types.ListUnknown(types.StringType), nil, diags
		case planned.ValueString() != name:
			asset, _ := at["name"].(types.String)
			key, _ := at["asset_key"].(types.String)
			moves = append(moves, assetMove{from: name, to: planned.ValueString(), assetName: asset.ValueString(), assetKey: key.ValueString()})
			newName[name] = planned.ValueString()
			name = planned.ValueString()
		}
		if _, taken := out[name]; taken {
			diags.AddAttributeError(path.Root("assets"), "Two Assets Under One Mapping Name",
				fmt.Sprintf("Two assets of this migration would be keyed by %q after the mappings' renames. Give each mapping its own name.", name))
			return assets, order, nil, diags
		}
		out[name] = v
	}
	if len(moves) == 0 {
		return assets, order, nil, diags
	}
	sort.Slice(moves, func(i, j int) bool { return moves[i].from < moves[j].from })
	if !order.IsNull() && !order.IsUnknown() {
		names := make([]attr.Value, 0, len(order.Elements()))
		for _, e := range order.Elements() {
			if s, ok := e.(types.String); ok {
				if n, moved := newName[s.ValueString()]; moved {
					e = types.StringValue(n)
				}
			}
			names = append(names, e)
		}
		order = types.ListValueMust(types.StringType, names)
	}
	return types.MapValueMust(migratedAssetType, out), order, moves, diags
}

// renameWarning tells what a rename of migrated mappings does and does not do.
func renameWarning(migrationID string, moves []assetMove) string {
	lines := make([]string, len(moves))
	from := make([]string, len(moves))
	for i, m := range moves {
		lines[i] = fmt.Sprintf("assets[%q] becomes assets[%q]; the ODC asset %s keeps its name %q", m.from, m.to, m.assetKey, m.assetName)
		from[i] = fmt.Sprintf("%q", m.from)
	}
	return fmt.Sprintf("Code migration %s already migrated these mappings, which this plan renames. `assets` is keyed by the "+
		"mappings' names, so the keys move in place; nothing is migrated, published or released again:\n- %s\n\n"+
		"Renaming a mapping does not rename what was already migrated: a new migration of the mapping (change `triggers_replace`) "+
		"writes the asset's next revision under the new name. Resources whose for_each iterates over `assets` are addressed by "+
		"its keys: add `moved` blocks from their old keys (%s) to the new ones, or Terraform replaces them.",
		migrationID, strings.Join(lines, "\n- "), strings.Join(from, ", "))
}

// planRenamedMappings moves the assets of an existing migration whose
// mappings this plan renames to their new keys (an in-place update, with a
// warning). It runs after planRepointedMappings and does nothing when the
// migration is replaced (new mappings, a new source environment or
// triggers_replace): Terraform then plans the new migration without state,
// and ModifyPlan keys it by the planned names.
func (r *codeMigrationResource) planRenamedMappings(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if resp.Diagnostics.HasError() || len(resp.RequiresReplace) > 0 {
		return
	}
	var plan, state codeMigrationModel
	resp.Diagnostics.Append(resp.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !plan.SourceEnvironmentKey.Equal(state.SourceEnvironmentKey) || !plan.TriggersReplace.Equal(state.TriggersReplace) {
		return
	}
	assets, order, moves, diags := rekeyAssets(plan.Assets, plan.PublishOrder, r.data.plannedName)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() || (len(moves) == 0 && assets.IsUnknown() == plan.Assets.IsUnknown()) {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("assets"), assets)...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("publish_order"), order)...)
	if len(moves) > 0 {
		resp.Diagnostics.AddAttributeWarning(path.Root("assets"), "Migrated Mappings Renamed", renameWarning(plan.ID.ValueString(), moves))
	}
}
