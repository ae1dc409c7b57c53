// Command shapedprovider is the benchmark's second floor: a no-op provider
// with the OutSystems provider's own schemas. It is built at run time from
// internal/provider: the provider schema and every resource's schema are
// copied (attributes, nesting, computed/optional/sensitive flags, defaults,
// custom types, schema versions), with our validators dropped and only the
// plan modifiers the framework itself ships (UseStateForUnknown,
// RequiresReplace) kept. Its CRUD does no I/O: Read echoes the state,
// Create and Update store the plan with unknown values as null, Delete
// does nothing. There is no ModifyPlan, ValidateConfig or Configure.
//
// A plan over N of its resources, with our state and our configuration,
// costs what our schemas cost in Terraform core, the plugin protocol and
// the framework; the difference to our provider is what our own code adds.
// tools/bench serves it as registry.terraform.io/bench/outsystems (type
// name outsystems, so a configuration of ours only changes its source).
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"runtime/pprof"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	ours "github.com/seed-1be1de96/terraform-provider-outsystems/internal/provider"
)

// Address is where the benchmark's CLI configuration installs it.
const Address = "registry.terraform.io/bench/outsystems"

func main() {
	// As tools/bench/pprofprovider: a CPU profile per process on request.
	if dir := os.Getenv("BENCH_PPROF_DIR"); dir != "" {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-shaped-%d.pprof", os.Getpid())))
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	ours.QuietSDKLogs()
	if err := providerserver.Serve(context.Background(), newShaped, providerserver.ServeOpts{Address: Address}); err != nil {
		log.Print(err)
	}
}

type shapedProvider struct {
	real provider.Provider
}

func newShaped() provider.Provider { return shapedProvider{real: ours.New("shaped")()} }

func (p shapedProvider) Metadata(ctx context.Context, req provider.MetadataRequest, resp *provider.MetadataResponse) {
	p.real.Metadata(ctx, req, resp)
}

// Schema is ours as is: the provider block is configured once per run.
func (p shapedProvider) Schema(ctx context.Context, req provider.SchemaRequest, resp *provider.SchemaResponse) {
	p.real.Schema(ctx, req, resp)
}

func (shapedProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p shapedProvider) Resources(ctx context.Context) []func() resource.Resource {
	var meta provider.MetadataResponse
	p.real.Metadata(ctx, provider.MetadataRequest{}, &meta)
	var out []func() resource.Resource
	for _, newRes := range p.real.Resources(ctx) {
		r := newRes()
		var m resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &m)
		var s resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &s)
		if s.Diagnostics.HasError() {
			log.Fatalf("schema of %s: %v", m.TypeName, s.Diagnostics)
		}
		sr := shapedResource{typeName: m.TypeName, schema: shapeSchema(s.Schema)}
		out = append(out, func() resource.Resource { return sr })
	}
	return out
}

func (shapedProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

// shapedResource is one of our resource types without our code.
type shapedResource struct {
	typeName string
	schema   schema.Schema
}

func (r shapedResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = r.typeName
}

func (r shapedResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = r.schema
}

func (shapedResource) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = knownOrNull(req.Plan.Raw)
}

func (shapedResource) Read(_ context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	resp.State.Raw = req.State.Raw
}

func (shapedResource) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = knownOrNull(req.Plan.Raw)
}

func (shapedResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// knownOrNull replaces the plan's unknown values with nulls: what an apply
// that computes nothing stores.
func knownOrNull(v tftypes.Value) tftypes.Value {
	out, err := tftypes.Transform(v, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
	if err != nil {
		return v
	}
	return out
}

// --- schema copy ---

const frameworkPkg = "github.com/hashicorp/terraform-plugin-framework/"

// frameworkOnly keeps the plan modifiers the framework itself ships
// (stringplanmodifier.UseStateForUnknown, RequiresReplace, ...) and drops
// ours.
func frameworkOnly[T any](mods []T) []T {
	var out []T
	for _, m := range mods {
		t := reflect.TypeOf(m)
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t != nil && strings.HasPrefix(t.PkgPath(), frameworkPkg) {
			out = append(out, m)
		}
	}
	return out
}

func shapeSchema(s schema.Schema) schema.Schema {
	return schema.Schema{
		Attributes: shapeAttributes(s.Attributes),
		Blocks:     shapeBlocks(s.Blocks),
		Version:    s.Version,
	}
}

func shapeAttributes(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	if attrs == nil {
		return nil
	}
	out := make(map[string]schema.Attribute, len(attrs))
	for name, a := range attrs {
		out[name] = shapeAttribute(a)
	}
	return out
}

func shapeNested(o schema.NestedAttributeObject) schema.NestedAttributeObject {
	return schema.NestedAttributeObject{Attributes: shapeAttributes(o.Attributes), CustomType: o.CustomType,
		PlanModifiers: frameworkOnly(o.PlanModifiers)}
}

func shapeNestedBlock(o schema.NestedBlockObject) schema.NestedBlockObject {
	return schema.NestedBlockObject{Attributes: shapeAttributes(o.Attributes), Blocks: shapeBlocks(o.Blocks), CustomType: o.CustomType,
		PlanModifiers: frameworkOnly(o.PlanModifiers)}
}

// shapeAttribute copies one attribute without descriptions, validators and
// our plan modifiers.
func shapeAttribute(a schema.Attribute) schema.Attribute {
	switch a := a.(type) {
	case schema.StringAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.BoolAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.Int64Attribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.Int32Attribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.Float64Attribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.Float32Attribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.NumberAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.DynamicAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.ListAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.SetAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.MapAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.ObjectAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		return a
	case schema.ListNestedAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		a.NestedObject = shapeNested(a.NestedObject)
		return a
	case schema.SetNestedAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		a.NestedObject = shapeNested(a.NestedObject)
		return a
	case schema.MapNestedAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		a.NestedObject = shapeNested(a.NestedObject)
		return a
	case schema.SingleNestedAttribute:
		a.Validators, a.PlanModifiers, a.Description, a.MarkdownDescription = nil, frameworkOnly(a.PlanModifiers), "", ""
		a.Attributes = shapeAttributes(a.Attributes)
		return a
	default:
		log.Fatalf("shapedprovider: attribute type %T is not copied yet", a)
		return nil
	}
}

func shapeBlocks(blocks map[string]schema.Block) map[string]schema.Block {
	if blocks == nil {
		return nil
	}
	out := make(map[string]schema.Block, len(blocks))
	for name, b := range blocks {
		switch b := b.(type) {
		case schema.ListNestedBlock:
			b.Validators, b.PlanModifiers, b.Description, b.MarkdownDescription = nil, frameworkOnly(b.PlanModifiers), "", ""
			b.NestedObject = shapeNestedBlock(b.NestedObject)
			out[name] = b
		case schema.SetNestedBlock:
			b.Validators, b.PlanModifiers, b.Description, b.MarkdownDescription = nil, frameworkOnly(b.PlanModifiers), "", ""
			b.NestedObject = shapeNestedBlock(b.NestedObject)
			out[name] = b
		case schema.SingleNestedBlock:
			b.Validators, b.PlanModifiers, b.Description, b.MarkdownDescription = nil, frameworkOnly(b.PlanModifiers), "", ""
			b.Attributes, b.Blocks = shapeAttributes(b.Attributes), shapeBlocks(b.Blocks)
			out[name] = b
		default:
			log.Fatalf("shapedprovider: block type %T is not copied yet", b)
		}
	}
	return out
}
