package odc

import (
	"context"
	"database/sql"
	"net/http"
	"strings"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Public elements and the elements a revision references (dependency
// management v1: public-elements, referenced-elements), and the signature
// digests of the dependency answers.
//
// A simplification: the O11 fixture names the modules an application
// references, not the elements it uses, so the sandbox derives each
// revision's public elements from its asset's key and kind and the
// revision's name, and a revision references every public element of each
// producer, as the producer's latest revision exposed them when the
// revision was created (odc_referenced_elements). A library exposes a
// server action, a block and an image the block shows (hidden: not public
// itself, shared because the block uses it); an application exposes an
// entity and a service action. An element's key depends on its asset and
// slot only, so it stays across revisions; its signature digest follows its
// name and type, its compatibility digest its type.

// element is one public element of a revision.
type element struct {
	Key, Name, Type, Description string
	Hidden                       bool
	SignatureDigest              string
	CompatibilityDigest          string
}

// elementSlot is one element an asset kind exposes: its type, the suffix
// of its name and whether it is hidden.
type elementSlot struct {
	typ, suffix, description string
	hidden                   bool
}

var elementSlots = map[string][]elementSlot{
	AssetTypeLibrary: {
		{"ServerAction", "_Get", "Reads the library's main record.", false},
		{"Block", "Card", "Shows the library's main record.", false},
		{"Image", "Logo", "", true},
	},
	AssetTypeWebApp: {
		{"Entity", "Record", "The application's main entity.", false},
		{"ServiceAction", "_Notify", "Tells the application about a change.", false},
	},
	AssetTypeMobileApp: {
		{"Entity", "Record", "The application's main entity.", false},
		{"ServiceAction", "_Notify", "Tells the application about a change.", false},
	},
}

// identifier turns an asset name into an element name prefix: its letters
// and digits, each word capitalized.
func identifier(name string) string {
	var b strings.Builder
	upper := true
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z':
			if upper {
				c -= 'a' - 'A'
			}
			b.WriteRune(c)
			upper = false
		case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			upper = false
		default:
			upper = true
		}
	}
	if b.Len() == 0 {
		return "Asset"
	}
	return b.String()
}

// publicElements are the public elements a revision of an asset exposes,
// hidden ones included.
func publicElements(assetKey, assetType, revisionName string) []element {
	slots := elementSlots[assetType]
	out := make([]element, len(slots))
	prefix := identifier(revisionName)
	for i, s := range slots {
		key := sqldb.DerivedKey("odc-element", assetKey, s.typ, s.suffix)
		name := prefix + s.suffix
		out[i] = element{Key: key, Name: name, Type: s.typ, Description: s.description, Hidden: s.hidden,
			SignatureDigest:     sqldb.DerivedKey("odc-element-signature", key, s.typ, name),
			CompatibilityDigest: sqldb.DerivedKey("odc-element-compatibility", key, s.typ)}
	}
	return out
}

// revisionDigests are a revision's signature and compatibility signature
// digests, over the digests of its public elements; nil when it has none.
func revisionDigests(assetKey, assetType, revisionName string) (signature, compatibility *string) {
	elems := publicElements(assetKey, assetType, revisionName)
	if len(elems) == 0 {
		return nil, nil
	}
	sig, compat := []string{"odc-signature", assetKey}, []string{"odc-compatibility", assetKey}
	for _, e := range elems {
		sig, compat = append(sig, e.SignatureDigest), append(compat, e.CompatibilityDigest)
	}
	return str(sqldb.DerivedKey(sig...)), str(sqldb.DerivedKey(compat...))
}

// recordReferences records that a revision references every public
// element of each producer's latest revision, inside the caller's write
// transaction.
func recordReferences(ctx context.Context, tx *sql.Tx, assetKey string, revision int, producers []*Asset) error {
	for _, p := range producers {
		for _, e := range publicElements(p.Key, p.AssetType, p.latest().Name) {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO odc_referenced_elements (asset_key, revision, producer_key, element_key,
				name, type, description, is_hidden, signature_digest, compatibility_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				assetKey, revision, p.Key, e.Key, e.Name, e.Type, e.Description, e.Hidden, e.SignatureDigest, e.CompatibilityDigest); err != nil {
				return err
			}
		}
	}
	return nil
}

// backfillReferences gives the revisions recorded before the sandbox kept
// referenced elements the references of their producers, as the producers'
// latest revisions expose them now.
func backfillReferences(ctx context.Context, tx *sql.Tx) error {
	type missing struct {
		assetKey string
		revision int
		producer string
	}
	var todo []missing
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var m missing
		err := rows.Scan(&m.assetKey, &m.revision, &m.producer)
		todo = append(todo, m)
		return err
	}, `SELECT p.asset_key, p.revision, p.producer_key FROM odc_revision_producers p
		WHERE NOT EXISTS (SELECT 1 FROM odc_referenced_elements e
			WHERE e.asset_key = p.asset_key AND e.revision = p.revision AND e.producer_key = p.producer_key)
		ORDER BY p.asset_key, p.revision, p.producer_key`)
	if err != nil || len(todo) == 0 {
		return err
	}
	for _, m := range todo {
		p, err := findAsset(ctx, tx, m.producer)
		if err != nil {
			return err
		}
		if p == nil {
			continue
		}
		if err := recordReferences(ctx, tx, m.assetKey, m.revision, []*Asset{p}); err != nil {
			return err
		}
	}
	return nil
}

// elementQuery is what the element endpoints share: the revision, the
// order and whether hidden elements are wanted.
type elementQuery struct {
	asset         *Asset
	revision      *Revision
	desc          bool
	includeHidden bool
}

// parseElementQuery reads sort and includeHidden, then the asset revision
// and what load reads, in one transaction.
func (s *Service) parseElementQuery(w http.ResponseWriter, r *http.Request, load func(ctx context.Context, tx *sql.Tx, q *elementQuery) error) (*elementQuery, bool) {
	q := r.URL.Query()
	e := &elementQuery{includeHidden: true}
	switch sort := q.Get("sort"); sort {
	case "", "name":
	case "-name":
		e.desc = true
	default:
		s.fail(w, r, httpx.Invalidf("Unknown sort '%s': use name or -name.", sort))
		return nil, false
	}
	hidden, err := queryBool(q, "includeHidden")
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if hidden != nil {
		e.includeHidden = *hidden
	}
	revision, err := revisionParam(r)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	ok := s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		if e.asset, e.revision, err = loadRevision(ctx, tx, r.PathValue("assetKey"), revision); err != nil {
			return err
		}
		if load != nil {
			return load(ctx, tx, e)
		}
		return nil
	})
	return e, ok
}

// referencedElementJSON is ReferencedElementStringTypes.
type referencedElementJSON struct {
	AssetKey                     string  `json:"assetKey"`
	Revision                     int     `json:"revision"`
	Key                          string  `json:"key"`
	Name                         string  `json:"name"`
	Description                  *string `json:"description"`
	IsHidden                     bool    `json:"isHidden"`
	SignatureDigest              string  `json:"signatureDigest"`
	CompatibilitySignatureDigest string  `json:"compatibilitySignatureDigest"`
	ProducerAssetKey             string  `json:"producerAssetKey"`
	ProducerAssetName            string  `json:"producerAssetName"`
	Type                         string  `json:"type"`
	ProducerAssetType            string  `json:"producerAssetType"`
}

// listReferencedElements lists the public elements of other assets a
// revision references, whether or not their assets are published anywhere.
func (s *Service) listReferencedElements(w http.ResponseWriter, r *http.Request, _ string) {
	var out []referencedElementJSON
	e, ok := s.parseElementQuery(w, r, func(ctx context.Context, tx *sql.Tx, e *elementQuery) error {
		return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var x referencedElementJSON
			var description string
			if err := rows.Scan(&x.ProducerAssetKey, &x.Key, &x.Name, &x.Type, &description, &x.IsHidden, &x.SignatureDigest,
				&x.CompatibilitySignatureDigest, &x.ProducerAssetType, &x.ProducerAssetName); err != nil {
				return err
			}
			x.AssetKey, x.Revision, x.Description = e.asset.Key, e.revision.Revision, optional(description)
			if e.includeHidden || !x.IsHidden {
				out = append(out, x)
			}
			return nil
		}, `SELECT e.producer_key, e.element_key, e.name, e.type, e.description, e.is_hidden, e.signature_digest, e.compatibility_digest,
				a.asset_type, (SELECT l.name FROM odc_revisions l WHERE l.asset_key = a.key ORDER BY l.revision DESC LIMIT 1)
			FROM odc_referenced_elements e JOIN odc_assets a ON a.key = e.producer_key
			WHERE e.asset_key = ? AND e.revision = ? ORDER BY e.producer_key, e.element_key`, e.asset.Key, e.revision.Revision)
	})
	if !ok {
		return
	}
	sortByName(out, func(x referencedElementJSON) string { return x.Name }, e.desc)
	writeList(w, out)
}

// publicElementJSON is PublicElementStringTypes.
type publicElementJSON struct {
	AssetKey                     string  `json:"assetKey"`
	AssetName                    string  `json:"assetName"`
	Revision                     int     `json:"revision"`
	Tag                          *string `json:"tag"`
	Key                          string  `json:"key"`
	Name                         string  `json:"name"`
	Description                  *string `json:"description"`
	SignatureDigest              string  `json:"signatureDigest"`
	CompatibilitySignatureDigest string  `json:"compatibilitySignatureDigest"`
	IsHidden                     bool    `json:"isHidden"`
	AssetType                    string  `json:"assetType"`
	Type                         string  `json:"type"`
}

// listPublicElements lists the public elements a revision exposes.
func (s *Service) listPublicElements(w http.ResponseWriter, r *http.Request, _ string) {
	e, ok := s.parseElementQuery(w, r, nil)
	if !ok {
		return
	}
	var out []publicElementJSON
	for _, x := range publicElements(e.asset.Key, e.asset.AssetType, e.revision.Name) {
		if x.Hidden && !e.includeHidden {
			continue
		}
		out = append(out, publicElementJSON{AssetKey: e.asset.Key, AssetName: e.revision.Name, Revision: e.revision.Revision, Tag: e.revision.Tag,
			Key: x.Key, Name: x.Name, Description: optional(x.Description), SignatureDigest: x.SignatureDigest,
			CompatibilitySignatureDigest: x.CompatibilityDigest, IsHidden: x.Hidden, AssetType: e.asset.AssetType, Type: x.Type})
	}
	sortByName(out, func(x publicElementJSON) string { return x.Name }, e.desc)
	writeList(w, out)
}
