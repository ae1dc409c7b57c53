package odc

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// --- deployments: publish operations ---

type publishOperationJSON struct {
	Key              string  `json:"key"`
	Status           string  `json:"status"`
	StartedDateTime  string  `json:"startedDateTime"`
	FinishedDateTime string  `json:"finishedDateTime"`
	DeployedBy       string  `json:"deployedBy"`
	AssetKey         string  `json:"assetKey"`
	Revision         int     `json:"revision"`
	BuildKey         *string `json:"buildKey"`
	PortfolioKey     string  `json:"portfolioKey"`
	Operation        string  `json:"operation"`
}

// publishOpJSON shows an operation as of now: the build key once it
// finished successfully, the finish time once finished.
func (s *Service) publishOpJSON(op *PublishOperation, now time.Time) publishOperationJSON {
	out := publishOperationJSON{Key: op.Key, Status: op.status(now), StartedDateTime: sqldb.FormatTime(op.StartedAt), DeployedBy: op.DeployedBy,
		AssetKey: op.AssetKey, Revision: op.Revision, PortfolioKey: s.meta.PortfolioKey, Operation: operationPublish}
	// finishedDateTime is a date-time the document neither makes optional
	// nor nullable: a running operation has .NET's zero DateTime.
	out.FinishedDateTime = unsetDateTime
	if out.Status != StatusRunning {
		out.FinishedDateTime = sqldb.FormatTime(op.FinishesAt)
	}
	if out.Status == StatusFinished {
		out.BuildKey = &op.BuildKey
	}
	return out
}

type publishRequestBody struct {
	Operation      *string `json:"operation"`
	AssetKey       *string `json:"assetKey"`
	Revision       *int    `json:"revision"`
	EnvironmentKey *string `json:"environmentKey"`
}

// handleStartPublish starts publishing an asset revision to a stage (default:
// Development). It answers 201 at once with status Running; the operation
// finishes after the sandbox's publish duration.
func (s *Service) handleStartPublish(w http.ResponseWriter, r *http.Request, caller string) {
	var body publishRequestBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		err = httpx.JSONEnd(dec)
	}
	if err != nil {
		s.fail(w, r, httpx.Invalidf(`Send a JSON object like {"operation": "Publish", "assetKey": "...", "revision": 1, "environmentKey": "..."}: %v.`, err))
		return
	}
	switch {
	case body.Operation != nil && *body.Operation != operationPublish:
		s.fail(w, r, httpx.Invalidf("Operation '%s' is not supported: use Publish.", *body.Operation))
		return
	case body.AssetKey == nil || *body.AssetKey == "":
		s.fail(w, r, httpx.Invalidf("assetKey is required."))
		return
	case body.Revision == nil || *body.Revision < 1:
		s.fail(w, r, httpx.Invalidf("revision is required and must be 1 or more."))
		return
	}
	req := publishRequest{AssetKey: *body.AssetKey, Revision: *body.Revision}
	if body.EnvironmentKey != nil {
		req.EnvironmentKey = *body.EnvironmentKey
	}
	now := time.Now()
	op, err := s.publish(r.Context(), req, caller, s.publishDuration, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", deploymentBase+"/publish-operations/"+op.Key)
	httpx.WriteJSON(w, http.StatusCreated, s.publishOpJSON(op, now))
}

// int32PageInfo is the Int32NullablePageInfo of the deployments API.
type int32PageInfo struct {
	Count          int  `json:"count"`
	Limit          int  `json:"limit"`
	Offset         int  `json:"offset"`
	NextPageOffset *int `json:"nextPageOffset"`
}

// listPublishOperations lists publish operations matching the filters,
// newest first unless sorted otherwise.
func (s *Service) listPublishOperations(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := parsePaging(q, MaxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	oq, err := parseOperationQuery(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := publishOpFilter{status: oq.status, assetKey: oq.assetKey, environmentKey: oq.environmentKey, revision: oq.revision}
	now := time.Now()
	ops, err := s.publishOps(r.Context(), f, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if portfolio := q.Get("portfolioKey"); portfolio != "" && !strings.EqualFold(portfolio, s.meta.PortfolioKey) {
		ops = nil
	}
	ops = slices.DeleteFunc(ops, func(op *PublishOperation) bool { return !oq.startedWithin(op.StartedAt) })
	switch sort := q.Get("sort"); sort {
	case "", "-CreatedAt":
	case "CreatedAt":
		slices.Reverse(ops)
	case "FinishedAt", "-FinishedAt":
		slices.SortStableFunc(ops, func(x, y *PublishOperation) int { return x.FinishesAt.Compare(y.FinishesAt) })
		if sort == "-FinishedAt" {
			slices.Reverse(ops)
		}
	default:
		s.fail(w, r, httpx.Invalidf("Unknown sort '%s': use CreatedAt or FinishedAt, with '-' for descending.", sort))
		return
	}
	out := make([]publishOperationJSON, len(ops))
	for i, op := range ops {
		out[i] = s.publishOpJSON(op, now)
	}
	page, next := pageOf(out, p)
	httpx.WriteJSON(w, http.StatusOK, pagedList[publishOperationJSON]{Results: page,
		Page: int32PageInfo{Count: len(page), Limit: p.limit, Offset: p.offset, NextPageOffset: next}})
}

func (s *Service) publishOpByKey(w http.ResponseWriter, r *http.Request, now time.Time) (*PublishOperation, bool) {
	key, err := httpx.ParseKey("operationKey", r.PathValue("operationKey"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	ops, err := s.publishOps(r.Context(), publishOpFilter{key: key}, now)
	if err == nil && len(ops) == 0 {
		err = httpx.NotFoundf("Publish operation with key '%s' was not found.", key)
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return ops[0], true
}

func (s *Service) getPublishOperation(w http.ResponseWriter, r *http.Request, _ string) {
	now := time.Now()
	if op, ok := s.publishOpByKey(w, r, now); ok {
		httpx.WriteJSON(w, http.StatusOK, s.publishOpJSON(op, now))
	}
}

type taskMessage struct {
	Timestamp      string         `json:"timestamp"`
	Type           string         `json:"type"`
	Severity       string         `json:"severity"`
	Message        string         `json:"message"`
	AdditionalInfo messageDetails `json:"additionalInfo"`
}

type messageDetails struct {
	StepID   string  `json:"stepId"`
	AssetKey *string `json:"assetKey"`
}

// stringPageInfo is the StringPageInfo of the messages endpoints, whose
// offsets are strings.
type stringPageInfo struct {
	Count          int     `json:"count"`
	Limit          int     `json:"limit"`
	Offset         *string `json:"offset"`
	NextPageOffset *string `json:"nextPageOffset"`
}

// listPublishMessages lists the messages an operation logged so far.
func (s *Service) listPublishMessages(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := parsePaging(q, MaxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now()
	op, ok := s.publishOpByKey(w, r, now)
	if !ok {
		return
	}
	msgs, err := s.publishMessages(r.Context(), op.Key, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]taskMessage, len(msgs))
	for i, m := range msgs {
		out[i] = taskMessage{Timestamp: sqldb.FormatTime(m.At), Type: m.Type, Severity: m.Severity, Message: m.Message,
			AdditionalInfo: messageDetails{StepID: m.StepID, AssetKey: optional(m.AssetKey)}}
	}
	page, next := pageOf(out, p)
	info := stringPageInfo{Count: len(page), Limit: p.limit, Offset: str(strconv.Itoa(p.offset))}
	if next != nil {
		info.NextPageOffset = str(strconv.Itoa(*next))
	}
	httpx.WriteJSON(w, http.StatusOK, pagedList[taskMessage]{Results: page, Page: info})
}

// operationQuery is what the listings of publish and deployment operations
// filter on alike: status, asset, stage, revision and when they started.
type operationQuery struct {
	status, assetKey, environmentKey string
	revision                         int // 0 = any
	since, until                     *time.Time
}

// parseOperationQuery reads and checks an operation listing's common query
// parameters.
func parseOperationQuery(q url.Values) (operationQuery, error) {
	oq := operationQuery{status: q.Get("status")}
	if oq.status != "" && !slices.Contains([]string{StatusRunning, StatusFinished, StatusFinishedWithError}, oq.status) {
		return oq, httpx.Invalidf("Unknown status '%s': use Running, Finished or FinishedWithError.", oq.status)
	}
	var err error
	for name, dst := range map[string]*string{"assetKey": &oq.assetKey, "environmentKey": &oq.environmentKey} {
		if v := q.Get(name); v != "" {
			if *dst, err = httpx.ParseKey(name, v); err != nil {
				return oq, err
			}
		}
	}
	if oq.revision, err = queryInt(q, "revision", 0, 1, 1<<31-1); err != nil {
		return oq, err
	}
	if oq.since, err = queryTime(q, "createdDateSince"); err != nil {
		return oq, err
	}
	oq.until, err = queryTime(q, "createdDateTo")
	return oq, err
}

// startedWithin reports whether an operation started at t falls within
// createdDateSince and createdDateTo.
func (oq operationQuery) startedWithin(t time.Time) bool {
	return (oq.since == nil || !t.Before(*oq.since)) && (oq.until == nil || !t.After(*oq.until))
}
