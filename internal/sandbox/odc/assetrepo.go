package odc

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// --- asset repository ---

type assetRevision struct {
	AssetKey              string           `json:"assetKey"`
	PortfolioKey          string           `json:"portfolioKey"`
	Revision              int              `json:"revision"`
	Name                  string           `json:"name"`
	Description           *string          `json:"description"`
	IsExternal            bool             `json:"isExternal"`
	Tag                   *string          `json:"tag"`
	ModelDigest           string           `json:"modelDigest"`
	ClonedFromTemplateKey *string          `json:"clonedFromTemplateKey"`
	AssetType             string           `json:"assetType"`
	CreatedBy             string           `json:"createdBy"`
	CreatedAt             string           `json:"createdAt"`
	CommitMessage         *string          `json:"commitMessage"`
	TaggedBy              *string          `json:"taggedBy"`
	TaggedAt              *string          `json:"taggedAt"`
	Embedded              *assetEmbeddings `json:"_embedded"`
}

// assetEmbeddings is AssetEmbeddingV1: each embedding the caller asked
// for, null for the others.
type assetEmbeddings struct {
	ReleaseNote *releaseNoteLink `json:"releaseNote"`
	Icon        *assetIcon       `json:"icon"`
	SourceCode  *assetSourceCode `json:"sourceCode"`
	Signature   *assetSignature  `json:"signature"`
	Metadata    *assetMetadata   `json:"metadata"`
}

type releaseNoteLink struct {
	Tag            *string `json:"tag"`
	ReleaseNoteURL *string `json:"releaseNoteUrl"`
}

type assetIcon struct {
	IconURL    *string `json:"iconUrl"`
	IconDigest *string `json:"iconDigest"`
}

type assetSourceCode struct {
	SourceCodeBinaryURL *string `json:"sourceCodeBinaryUrl"`
	SourceCodeDigest    *string `json:"sourceCodeDigest"`
}

type assetSignature struct {
	SignatureBinaryURL           *string `json:"signatureBinaryUrl"`
	SignatureDigest              *string `json:"signatureDigest"`
	CompatibilitySignatureDigest *string `json:"compatibilitySignatureDigest"`
}

// assetMetadata is BaseAssetMetadata. The sandbox keeps no build metadata
// (template, tool version, runtime, assemblies): those are null.
type assetMetadata struct {
	TemplateType     *string  `json:"templateType"`
	ToolVersion      *string  `json:"toolVersion"`
	Runtime          *string  `json:"runtime"`
	MobileFrameworks []string `json:"mobileFrameworks"`
	AssemblyVersion  *string  `json:"assemblyVersion"`
	AssemblyName     *string  `json:"assemblyName"`
	URLPath          *string  `json:"urlPath"`
	IsDeployable     bool     `json:"isDeployable"`
	IsBuiltInAsset   bool     `json:"isBuiltInAsset"`
}

// embedSet is the embed query parameter. The sandbox has release notes,
// signature digests (those dependency management serves, elements.go) and
// metadata; icons and source code are recognized
// and answered null (the sandbox keeps neither).
type embedSet struct{ releaseNote, signature, metadata, icon, sourceCode bool }

func (e embedSet) any() bool {
	return e.releaseNote || e.signature || e.metadata || e.icon || e.sourceCode
}

func parseEmbed(q url.Values) (embedSet, error) {
	var e embedSet
	for _, v := range queryList(q, "embed") {
		switch v {
		case "releaseNote":
			e.releaseNote = true
		case "metadata":
			e.metadata = true
		case "signature":
			e.signature = true
		case "icon":
			e.icon = true
		case "sourceCode":
			e.sourceCode = true
		default:
			return e, httpx.Invalidf("Unknown embed '%s': recognized values are releaseNote, icon, sourceCode, signature and metadata.", v)
		}
	}
	return e, nil
}

func (s *Service) revisionJSON(r *http.Request, a *Asset, rev *Revision, e embedSet) assetRevision {
	out := assetRevision{
		AssetKey: a.Key, PortfolioKey: s.meta.PortfolioKey, Revision: rev.Revision, Name: rev.Name, Tag: rev.Tag,
		ModelDigest: rev.ModelDigest, AssetType: a.AssetType, CreatedBy: rev.CreatedBy, CreatedAt: sqldb.FormatTime(rev.CreatedAt),
		CommitMessage: rev.CommitMessage, TaggedBy: rev.TaggedBy, TaggedAt: timeOf(rev.TaggedAt),
	}
	if !e.any() {
		return out
	}
	out.Embedded = &assetEmbeddings{}
	if e.releaseNote {
		link := &releaseNoteLink{Tag: rev.Tag}
		if rev.Tag != nil {
			link.ReleaseNoteURL = str(fmt.Sprintf("%s%s/assets/%s/revisions/%d/release-notes", requestBase(r), assetRepoBase, a.Key, rev.Revision))
		}
		out.Embedded.ReleaseNote = link
	}
	if e.signature {
		sig := &assetSignature{}
		sig.SignatureDigest, sig.CompatibilitySignatureDigest = revisionDigests(a.Key, a.AssetType, rev.Name)
		out.Embedded.Signature = sig
	}
	if e.sourceCode {
		if data, err := sourceBinary(a, rev); err == nil {
			out.Embedded.SourceCode = sourceLink(r, a, rev, data)
		}
	}
	if e.metadata {
		deployable := a.AssetType != AssetTypeLibrary
		md := &assetMetadata{IsDeployable: deployable}
		if deployable {
			md.URLPath = str(strings.ReplaceAll(rev.Name, " ", ""))
		}
		out.Embedded.Metadata = md
	}
	return out
}

// listAssets lists the latest revision of every asset matching the
// filters. Filters on things the sandbox does not model (templates, URL
// paths, permissions) are ignored.
func (s *Service) listAssets(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := parsePaging(q, MaxAssetRepoLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := parseEmbed(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	deployable, err := queryBool(q, "metadata.isDeployable")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	external, err := queryBool(q, "isExternal")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := assetFilter{types: queryList(q, "assetTypes"), keys: lowered(queryList(q, "assetKeys"))}
	if deployable != nil {
		f.libraries = boolPtr(!*deployable)
	}
	var assets []*Asset
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		assets, err = loadAssets(ctx, tx, f)
		return err
	}) {
		return
	}
	switch sort := q.Get("sort"); sort {
	case "", "name":
	case "-name":
		slices.Reverse(assets)
	case "createdAt", "-createdAt":
		slices.SortStableFunc(assets, func(x, y *Asset) int { return x.CreatedAt.Compare(y.CreatedAt) })
		if sort == "-createdAt" {
			slices.Reverse(assets)
		}
	default:
		s.fail(w, r, httpx.Invalidf("Unknown sort '%s': use name or createdAt, with '-' for descending.", sort))
		return
	}
	name := cmp.Or(q.Get("nameContains"), q.Get("nameOrDescriptionContains"))
	portfolios := queryList(q, "portfolioKeys")
	var out []assetRevision
	for _, a := range assets {
		latest := a.latest()
		if name != "" && !containsFold(latest.Name, name) ||
			len(portfolios) > 0 && !slices.ContainsFunc(portfolios, func(k string) bool { return strings.EqualFold(k, s.meta.PortfolioKey) }) ||
			external != nil && *external {
			continue
		}
		out = append(out, s.revisionJSON(r, a, latest, e))
	}
	writePaged(w, out, p)
}

// getAsset answers GET /assets/{key} and /assets/{key}/latest-revision:
// both return the latest revision.
func (s *Service) getAsset(w http.ResponseWriter, r *http.Request, _ string) {
	e, err := parseEmbed(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var a *Asset
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		a, err = assetByKey(ctx, tx, r.PathValue("assetKey"))
		return err
	}) {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s.revisionJSON(r, a, a.latest(), e))
}

func (s *Service) getHighestTagRevision(w http.ResponseWriter, r *http.Request, _ string) {
	e, err := parseEmbed(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var a *Asset
	var rev *Revision
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		if a, err = assetByKey(ctx, tx, r.PathValue("assetKey")); err != nil {
			return err
		}
		if rev, err = highestTag(ctx, tx, a.Key, 0); err == nil && rev == nil {
			err = httpx.NotFoundf("Asset '%s' (key %s) has no tagged revision.", a.latest().Name, a.Key)
		}
		return err
	}) {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s.revisionJSON(r, a, rev, e))
}

func (s *Service) getRevision(w http.ResponseWriter, r *http.Request, _ string) {
	e, err := parseEmbed(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := revisionParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var a *Asset
	var rev *Revision
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		a, rev, err = loadRevision(ctx, tx, r.PathValue("assetKey"), n)
		return err
	}) {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s.revisionJSON(r, a, rev, e))
}

// listRevisions lists an asset's revisions, by revision number unless
// sorted otherwise.
func (s *Service) listRevisions(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := parsePaging(q, MaxAssetRepoLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := parseEmbed(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tagged, err := queryBool(q, "isTagged")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	since, err := queryTime(q, "revisionDateTimeSince")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	until, err := queryTime(q, "revisionDateTimeTo")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var a *Asset
	var all []*Revision
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		if a, err = assetByKey(ctx, tx, r.PathValue("assetKey")); err != nil {
			return err
		}
		all, err = allRevisions(ctx, tx, a.Key)
		return err
	}) {
		return
	}
	tag, digest, commit := q.Get("tag"), q.Get("modelDigest"), q.Get("commitMessage")
	var revs []*Revision
	for _, rev := range all {
		if tagged != nil && *tagged != (rev.Tag != nil) ||
			tag != "" && (rev.Tag == nil || *rev.Tag != tag) ||
			digest != "" && rev.ModelDigest != digest ||
			commit != "" && (rev.CommitMessage == nil || !containsFold(*rev.CommitMessage, commit)) ||
			since != nil && rev.CreatedAt.Before(*since) ||
			until != nil && rev.CreatedAt.After(*until) {
			continue
		}
		revs = append(revs, rev)
	}
	switch sort := q.Get("sort"); sort {
	case "", "revision":
	case "-revision":
		slices.Reverse(revs)
	case "tag", "-tag":
		// Untagged revisions sort before tagged ones.
		slices.SortStableFunc(revs, func(x, y *Revision) int {
			switch {
			case x.Tag == nil || y.Tag == nil:
				return cmp.Compare(boolInt(x.Tag != nil), boolInt(y.Tag != nil))
			default:
				return compareTags(*x.Tag, *y.Tag)
			}
		})
		if sort == "-tag" {
			slices.Reverse(revs)
		}
	default:
		s.fail(w, r, httpx.Invalidf("Unknown sort '%s': use revision or tag, with '-' for descending.", sort))
		return
	}
	out := make([]assetRevision, len(revs))
	for i, rev := range revs {
		out[i] = s.revisionJSON(r, a, rev, e)
	}
	writePaged(w, out, p)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// handlePatchRevision tags (releases) a revision, changes its release notes
// or commit message, or clears its tag with "tag": null. Absent fields are
// left as they are.
func (s *Service) handlePatchRevision(w http.ResponseWriter, r *http.Request, caller string) {
	n, err := revisionParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body map[string]json.RawMessage
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	if err := dec.Decode(&body); err != nil || body == nil || httpx.JSONEnd(dec) != nil {
		s.fail(w, r, httpx.Invalidf(`Send a JSON object like {"tag": "1.0.0", "releaseNotes": "...", "commitMessage": "..."}.`))
		return
	}
	var patch revisionPatch
	fields := map[string]***string{"tag": &patch.Tag, "releaseNotes": &patch.ReleaseNotes, "commitMessage": &patch.CommitMessage}
	for name, raw := range body {
		dst, known := fields[name]
		if !known {
			s.fail(w, r, httpx.Invalidf("Unknown field '%s': a revision patch has tag, releaseNotes and commitMessage.", name))
			return
		}
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			s.fail(w, r, httpx.Invalidf("Field '%s' must be a string or null.", name))
			return
		}
		*dst = &v
	}
	if err := s.patchRevision(r.Context(), r.PathValue("assetKey"), n, patch, caller, time.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type releaseNoteContent struct {
	Tag     *string `json:"tag"`
	Content *string `json:"content"`
}

func (s *Service) getReleaseNotes(w http.ResponseWriter, r *http.Request, _ string) {
	n, err := revisionParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rev *Revision
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		_, rev, err = loadRevision(ctx, tx, r.PathValue("assetKey"), n)
		return err
	}) {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, releaseNoteContent{Tag: rev.Tag, Content: rev.ReleaseNotes})
}
