package odc

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// A revision's source code download: the asset repository answers a
// short-lived URL of the storage that holds the binary and its digest, as
// ODC does with a pre-signed URL. The sandbox's storage is the path
// sourceStoragePath on its own host: the URL carries an expiry and a
// signature, needs no bearer token and serves the bytes.

const (
	sourceStoragePath = "/odc-storage/source-code"
	// sourceURLLifetime is how long a download URL works.
	sourceURLLifetime = 15 * time.Minute
)

// downloadKey signs download URLs; a restarted sandbox issues new ones.
var downloadKey = func() []byte {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return b[:]
}()

func (s *Service) registerSourceCode(mux *http.ServeMux) {
	s.route(mux, assetRepoBase+"/assets/{assetKey}/revisions/{revisionNumber}/source-code", map[string]http.HandlerFunc{
		http.MethodGet: s.api(fixture.PermissionOpen, s.getSourceCode),
	})
	mux.HandleFunc("GET "+sourceStoragePath+"/{assetKey}/{revision}", s.downloadSourceCode)
}

// sourceBinary is the revision's source: a zip holding the model's name,
// type, digest and producers, the same bytes on every call.
func sourceBinary(a *Asset, r *Revision) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "model.json", Method: zip.Deflate, Modified: r.CreatedAt}
	f, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	model := map[string]any{"assetKey": a.Key, "assetType": a.AssetType, "revision": r.Revision, "name": r.Name,
		"modelDigest": r.ModelDigest, "producers": r.Producers}
	if err := json.NewEncoder(f).Encode(model); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sourceDigest is the binary's digest in the document's uuid format: a
// version 8 UUID made of its SHA-256.
func sourceDigest(data []byte) string {
	return uuid.NewHash(sha256.New(), uuid.Nil, data, 8).String()
}

func sourceSignature(assetKey string, revision int, expires int64) string {
	mac := hmac.New(sha256.New, downloadKey)
	fmt.Fprintf(mac, "%s/%d/%d", assetKey, revision, expires)
	return hex.EncodeToString(mac.Sum(nil))
}

type sourceCodeJSON struct {
	SourceCodeBinaryURL *string `json:"sourceCodeBinaryUrl"`
	SourceCodeDigest    *string `json:"sourceCodeDigest"`
}

// getSourceCode answers where to download a revision's source code.
func (s *Service) getSourceCode(w http.ResponseWriter, r *http.Request, _ string) {
	n, err := revisionParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var data []byte
	var a *Asset
	var rev *Revision
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		if a, rev, err = loadRevision(ctx, tx, r.PathValue("assetKey"), n); err != nil {
			return err
		}
		data, err = sourceBinary(a, rev)
		return err
	}) {
		return
	}
	link := sourceLink(r, a, rev, data)
	httpx.WriteJSON(w, http.StatusOK, sourceCodeJSON{SourceCodeBinaryURL: link.SourceCodeBinaryURL, SourceCodeDigest: link.SourceCodeDigest})
}

// sourceLink is where to download a revision's source (data), for the
// source-code endpoint and the sourceCode embedding alike.
func sourceLink(r *http.Request, a *Asset, rev *Revision, data []byte) *assetSourceCode {
	expires := time.Now().Add(sourceURLLifetime).Unix()
	u := fmt.Sprintf("%s%s/%s/%d?expires=%d&signature=%s", requestBase(r), sourceStoragePath, a.Key, rev.Revision, expires,
		sourceSignature(a.Key, rev.Revision, expires))
	return &assetSourceCode{SourceCodeBinaryURL: &u, SourceCodeDigest: str(sourceDigest(data))}
}

// downloadSourceCode serves the bytes to a signed, unexpired URL, and
// answers 403 (as a storage service does) to any other.
func (s *Service) downloadSourceCode(w http.ResponseWriter, r *http.Request) {
	assetKey := r.PathValue("assetKey")
	revision, err := strconv.Atoi(r.PathValue("revision"))
	q := r.URL.Query()
	expires, perr := strconv.ParseInt(q.Get("expires"), 10, 64)
	switch {
	case err != nil || perr != nil || !hmac.Equal([]byte(q.Get("signature")), []byte(sourceSignature(assetKey, revision, expires))):
		http.Error(w, "AccessDenied: the signature of this download URL does not match; ask the asset repository for a new one.", http.StatusForbidden)
		return
	case time.Now().Unix() > expires:
		http.Error(w, "AccessDenied: this download URL expired; ask the asset repository for a new one.", http.StatusForbidden)
		return
	}
	var data []byte
	err = s.db.Read(r.Context(), func(tx *sql.Tx) error {
		a, rev, err := loadRevision(r.Context(), tx, assetKey, revision)
		if err != nil {
			return err
		}
		data, err = sourceBinary(a, rev)
		return err
	})
	if err != nil {
		s.logger.Printf("source code download: %v", err)
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
