package odc

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// The deployments API's deployment operations: Deploy (a Release build of
// a revision to a stage after Development), Undeploy and ApplyConfigs.
// They run like publish operations: created Running, finished after the
// service's deployment duration, their outcome decided when they start.
// What a stage holds follows from them (stageOpsSQL in store.go).

// Deployment operation types (DeploymentOperationsType).
const (
	operationDeploy       = "Deploy"
	operationUndeploy     = "Undeploy"
	operationApplyConfigs = "ApplyConfigs"
)

var deploymentOperationTypes = []string{operationDeploy, operationUndeploy, operationApplyConfigs}

// DeploymentOperation is a Deploy, Undeploy or ApplyConfigs of an asset in
// a stage. It is never updated: its status follows from its times.
type DeploymentOperation struct {
	Key            string
	Operation      string
	AssetKey       string
	AssetName      string // the asset's latest name
	Revision       int    // Undeploy: the revision it removed
	BuildKey       string // Deploy only
	EnvironmentKey string
	DeployedBy     string
	StartedAt      time.Time
	FinishesAt     time.Time
	Outcome        string // Finished or FinishedWithError
}

func (op *DeploymentOperation) status(now time.Time) string {
	if now.Before(op.FinishesAt) {
		return StatusRunning
	}
	return op.Outcome
}

// deploymentRequest is a validated POST of a deployment operation.
type deploymentRequest struct {
	Operation      string
	AssetKey       string // canonical
	BuildKey       string // canonical; Deploy only
	Revision       int    // 0 = not given
	EnvironmentKey string // canonical
}

// startDeployment creates a deployment operation, refusing what ODC
// refuses at once (400/404) and deciding now how it ends: a Deploy fails
// when an app it consumes is not deployed in the stage (libraries are
// bundled into their consumers, never deployed on their own), an Undeploy
// fails while an app deployed in the stage consumes the asset.
func (s *Service) startDeployment(ctx context.Context, req deploymentRequest, caller string, duration time.Duration, now time.Time) (*DeploymentOperation, error) {
	var op *DeploymentOperation
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		stage, err := loadStage(ctx, tx, req.EnvironmentKey)
		if err != nil {
			return err
		}
		if stage.Purpose == fixture.PurposeDevelopment {
			return httpx.Invalidf("Stage '%s' is the Development stage: publish to it with POST /api/deployments/v1/publish-operations; deployment operations reach the stages after it.", stage.Name)
		}
		a, err := assetByKey(ctx, tx, req.AssetKey)
		if err != nil {
			return err
		}
		if a.AssetType == AssetTypeLibrary {
			return httpx.Invalidf("Asset '%s' (key %s) is a library: libraries are not deployed to stages, ODC bundles a library into each app that consumes it. Deploy the apps that consume it.", a.latest().Name, a.Key)
		}
		var running int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM odc_deployment_operations WHERE environment_key = ? AND asset_key = ? AND finishes_at > ?`,
			stage.Key, a.Key, nanos(now)).Scan(&running); err != nil {
			return err
		}
		if running > 0 {
			return httpx.Invalidf("A deployment operation of '%s' (key %s) in stage '%s' is running: wait until it finishes.", a.latest().Name, a.Key, stage.Name)
		}
		op = &DeploymentOperation{Key: uuid.NewString(), Operation: req.Operation, AssetKey: a.Key, AssetName: a.latest().Name,
			EnvironmentKey: stage.Key, DeployedBy: caller, StartedAt: now, FinishesAt: now.Add(duration), Outcome: StatusFinished}
		var msgs []Message
		switch req.Operation {
		case operationDeploy:
			msgs, err = planDeploy(ctx, tx, req, a, stage, op, now)
		case operationUndeploy:
			msgs, err = planUndeploy(ctx, tx, req, a, stage, op, now)
		case operationApplyConfigs:
			msgs, err = planApplyConfigs(ctx, tx, req, a, stage, op, now)
		}
		if err != nil {
			return err
		}
		var build sql.NullString
		if op.BuildKey != "" {
			build = sql.NullString{String: op.BuildKey, Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO odc_deployment_operations
			(key, operation, asset_key, revision, build_key, environment_key, deployed_by, started_at, finishes_at, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, op.Key, op.Operation, op.AssetKey, op.Revision, build, op.EnvironmentKey,
			op.DeployedBy, nanos(op.StartedAt), nanos(op.FinishesAt), op.Outcome); err != nil {
			return err
		}
		for i, m := range msgs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO odc_deployment_messages (operation_key, position, at, type, severity, message, step_id, asset_key)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, op.Key, i, nanos(m.At), m.Type, m.Severity, m.Message, m.StepID, optional(m.AssetKey)); err != nil {
				return err
			}
		}
		return nil
	})
	return op, err
}

// finish closes an operation's messages: with the errors, it fails.
func finish(op *DeploymentOperation, msgs []Message, errs []Message, verb, subject, stage string) []Message {
	msgs = append(msgs, errs...)
	if len(errs) > 0 {
		op.Outcome = StatusFinishedWithError
		return append(msgs, Message{At: op.FinishesAt, Type: op.Operation + "Failed", Severity: "Error", StepID: "Finish", AssetKey: op.AssetKey,
			Message: fmt.Sprintf("%s %s in stage '%s' failed with %d error(s).", verb, subject, stage, len(errs))})
	}
	return append(msgs, Message{At: op.FinishesAt, Type: op.Operation + "Finished", Severity: "Info", StepID: "Finish", AssetKey: op.AssetKey,
		Message: fmt.Sprintf("%s %s in stage '%s': done.", verb, subject, stage)})
}

func planDeploy(ctx context.Context, tx *sql.Tx, req deploymentRequest, a *Asset, stage Stage, op *DeploymentOperation, now time.Time) ([]Message, error) {
	r, err := revisionOf(ctx, tx, a, req.Revision)
	if err != nil {
		return nil, err
	}
	b, err := loadBuild(ctx, tx, req.BuildKey, now)
	if err != nil {
		return nil, err
	}
	switch {
	case b.AssetKey != a.Key || b.Revision != r.Revision:
		return nil, httpx.Invalidf("Build %s is a build of asset %s revision %d, not of '%s' (key %s) revision %d: use a Release build of the revision you deploy.",
			b.Key, b.AssetKey, b.Revision, r.Name, a.Key, r.Revision)
	case b.BuildType != BuildTypeRelease:
		return nil, httpx.Invalidf("Build %s is a %s build: only builds of type Release can be deployed. Start one with POST /api/builds/v1/build-operations {\"buildType\": \"Release\", ...}.", b.Key, b.BuildType)
	case b.status(now) == BuildStatusRunning:
		return nil, httpx.Invalidf("Build %s of '%s' revision %d is still running: deploy it once it finished.", b.Key, r.Name, r.Revision)
	case b.status(now) != BuildStatusFinished:
		return nil, httpx.Invalidf("Build %s of '%s' revision %d finished with errors: it cannot be deployed.", b.Key, r.Name, r.Revision)
	}
	op.Revision, op.BuildKey = r.Revision, b.Key
	subject := fmt.Sprintf("'%s' revision %d", r.Name, r.Revision)
	msgs := []Message{{At: now, Type: "DeployStarted", Severity: "Info", StepID: "Start", AssetKey: a.Key,
		Message: fmt.Sprintf("Deploying %s (build %s) to stage '%s'.", subject, b.Key, stage.Name)}}
	missing, err := undeployedProducers(ctx, tx, r, stage.Key, now)
	if err != nil {
		return nil, err
	}
	var errs []Message
	for _, p := range missing {
		if p.AssetType == AssetTypeLibrary {
			continue
		}
		errs = append(errs, Message{At: op.FinishesAt, Type: "ProducerNotDeployed", Severity: "Error", StepID: "ResolveDependencies", AssetKey: p.Key,
			Message: fmt.Sprintf("Producer '%s' (key %s) is not deployed in stage '%s'. Deploy it first.", p.latest().Name, p.Key, stage.Name)})
	}
	return finish(op, msgs, errs, "Deploying", subject, stage.Name), nil
}

func planUndeploy(ctx context.Context, tx *sql.Tx, req deploymentRequest, a *Asset, stage Stage, op *DeploymentOperation, now time.Time) ([]Message, error) {
	deployed, err := deployedOp(ctx, tx, stage.Key, a.Key, now)
	if err != nil {
		return nil, err
	}
	if deployed == nil {
		return nil, httpx.Invalidf("Asset '%s' (key %s) is not deployed in stage '%s': there is nothing to undeploy.", a.latest().Name, a.Key, stage.Name)
	}
	if req.Revision != 0 && req.Revision != deployed.Revision {
		return nil, httpx.Invalidf("Revision %d of '%s' is not the one deployed in stage '%s' (revision %d).", req.Revision, a.latest().Name, stage.Name, deployed.Revision)
	}
	op.Revision = deployed.Revision
	subject := fmt.Sprintf("'%s' revision %d", a.latest().Name, deployed.Revision)
	msgs := []Message{{At: now, Type: "UndeployStarted", Severity: "Info", StepID: "Start", AssetKey: a.Key,
		Message: fmt.Sprintf("Undeploying %s from stage '%s'.", subject, stage.Name)}}
	consumers, err := loadDeployments(ctx, tx, deployedFilter{stageKeys: []string{stage.Key}, consumes: a.Key}, now)
	if err != nil {
		return nil, err
	}
	var errs []Message
	for _, c := range consumers {
		errs = append(errs, Message{At: op.FinishesAt, Type: "ConsumerDeployed", Severity: "Error", StepID: "ResolveDependencies", AssetKey: c.Asset.Key,
			Message: fmt.Sprintf("Consumer '%s' (key %s) revision %d is deployed in stage '%s' and depends on it. Undeploy the consumer first.",
				c.Revision.Name, c.Asset.Key, c.Revision.Revision, stage.Name)})
	}
	return finish(op, msgs, errs, "Undeploying", subject, stage.Name), nil
}

func planApplyConfigs(ctx context.Context, tx *sql.Tx, req deploymentRequest, a *Asset, stage Stage, op *DeploymentOperation, now time.Time) ([]Message, error) {
	deployed, err := deployedOp(ctx, tx, stage.Key, a.Key, now)
	if err != nil {
		return nil, err
	}
	if deployed == nil {
		return nil, httpx.Invalidf("Asset '%s' (key %s) is not deployed in stage '%s': deploy it; a Deploy applies its configurations too.", a.latest().Name, a.Key, stage.Name)
	}
	if req.Revision != deployed.Revision {
		return nil, httpx.Invalidf("Revision %d of '%s' is not the one deployed in stage '%s' (revision %d): apply configurations to the deployed revision.",
			req.Revision, a.latest().Name, stage.Name, deployed.Revision)
	}
	op.Revision = deployed.Revision
	subject := fmt.Sprintf("the configurations of '%s' revision %d", a.latest().Name, deployed.Revision)
	msgs := []Message{{At: now, Type: "ApplyConfigsStarted", Severity: "Info", StepID: "Start", AssetKey: a.Key,
		Message: fmt.Sprintf("Applying %s in stage '%s'.", subject, stage.Name)}}
	return finish(op, msgs, nil, "Applying", subject, stage.Name), nil
}

// forgetDeployments removes the finished Deploy and Undeploy operations of
// an asset in a stage, as resetting the stage does (UnpublishAsset).
func forgetDeployments(ctx context.Context, tx *sql.Tx, stageKey, assetKey string) error {
	const ops = `SELECT key FROM odc_deployment_operations WHERE environment_key = ? AND asset_key = ? AND operation IN ('Deploy', 'Undeploy')`
	if _, err := tx.ExecContext(ctx, `DELETE FROM odc_deployment_messages WHERE operation_key IN (`+ops+`)`, stageKey, assetKey); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM odc_deployment_operations WHERE environment_key = ? AND asset_key = ? AND operation IN ('Deploy', 'Undeploy')`, stageKey, assetKey)
	return err
}

// deploymentOpFilter selects deployment operations; empty fields match all.
type deploymentOpFilter struct {
	key, assetKey, environmentKey string
	revision                      int // 0 = any
	operations                    []string
}

// deploymentOps lists deployment operations, newest first.
func (s *Service) deploymentOps(ctx context.Context, f deploymentOpFilter) ([]*DeploymentOperation, error) {
	var ops []*DeploymentOperation
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		where, args := []string{"1"}, []any{}
		for _, c := range []struct {
			column string
			value  any
			set    bool
		}{
			{"o.key", f.key, f.key != ""}, {"o.asset_key", f.assetKey, f.assetKey != ""},
			{"o.environment_key", f.environmentKey, f.environmentKey != ""}, {"o.revision", f.revision, f.revision != 0},
		} {
			if c.set {
				where, args = append(where, c.column+" = ?"), append(args, c.value)
			}
		}
		if len(f.operations) > 0 {
			in, a := inList(f.operations)
			where, args = append(where, "o.operation IN ("+in+")"), append(args, a...)
		}
		return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			op := &DeploymentOperation{}
			var build sql.NullString
			var started, finishes int64
			if err := rows.Scan(&op.Key, &op.Operation, &op.AssetKey, &op.Revision, &build, &op.EnvironmentKey, &op.DeployedBy,
				&started, &finishes, &op.Outcome, &op.AssetName); err != nil {
				return err
			}
			op.BuildKey, op.StartedAt, op.FinishesAt = build.String, fromNanos(started), fromNanos(finishes)
			ops = append(ops, op)
			return nil
		}, `SELECT o.key, o.operation, o.asset_key, o.revision, o.build_key, o.environment_key, o.deployed_by, o.started_at, o.finishes_at, o.outcome,
			(SELECT l.name FROM odc_revisions l WHERE l.asset_key = o.asset_key ORDER BY l.revision DESC LIMIT 1)
			FROM odc_deployment_operations o WHERE `+strings.Join(where, " AND ")+` ORDER BY o.seq DESC`, args...)
	})
	return ops, err
}

// deploymentMessages lists the messages an operation logged by now.
func (s *Service) deploymentMessages(ctx context.Context, opKey string, now time.Time) ([]Message, error) {
	var msgs []Message
	err := s.db.Read(ctx, func(tx *sql.Tx) (err error) {
		msgs, err = loggedMessages(ctx, tx, "odc_deployment_messages", opKey, now)
		return err
	})
	return msgs, err
}

// --- HTTP ---

// registerDeploymentOperations serves the promotion path: deployment
// operations here, builds (builds.go), deployment analyses
// (deployment_analyses.go) and source code downloads (source_code.go).
func (s *Service) registerDeploymentOperations(mux *http.ServeMux) {
	view := func(h handler) http.HandlerFunc { return s.api(fixture.PermissionViewPortfolio, h) }
	ops := deploymentBase + "/deployment-operations"
	s.route(mux, ops, map[string]http.HandlerFunc{
		http.MethodGet:  view(s.listDeploymentOperations),
		http.MethodPost: s.api(fixture.PermissionDeploy, s.handleStartDeployment),
	})
	s.route(mux, ops+"/{operationKey}", map[string]http.HandlerFunc{http.MethodGet: view(s.getDeploymentOperation)})
	s.route(mux, ops+"/{operationKey}/messages", map[string]http.HandlerFunc{http.MethodGet: view(s.listDeploymentMessages)})
	// The rest of the promotion path.
	s.registerBuilds(mux)
	s.registerDeploymentAnalyses(mux)
	s.registerSourceCode(mux)
}

// deploymentOperationJSON is the DeploymentOperationResponse.
type deploymentOperationJSON struct {
	Key              string  `json:"key"`
	Status           string  `json:"status"`
	StartedDateTime  string  `json:"startedDateTime"`
	FinishedDateTime string  `json:"finishedDateTime"`
	DeployedBy       *string `json:"deployedBy"`
	AssetKey         string  `json:"assetKey"`
	Revisions        []int   `json:"revisions"`
	BuildKey         *string `json:"buildKey"`
	AssetName        *string `json:"assetName"`
	Operation        string  `json:"operation"`
	PortfolioKey     *string `json:"portfolioKey"`
}

func (s *Service) deploymentOpJSON(op *DeploymentOperation, now time.Time) deploymentOperationJSON {
	out := deploymentOperationJSON{Key: op.Key, Status: op.status(now), StartedDateTime: sqldb.FormatTime(op.StartedAt),
		DeployedBy: str(op.DeployedBy), AssetKey: op.AssetKey, Revisions: []int{op.Revision}, BuildKey: optional(op.BuildKey),
		AssetName: optional(op.AssetName), Operation: op.Operation, PortfolioKey: str(s.meta.PortfolioKey), FinishedDateTime: unsetDateTime}
	if out.Status != StatusRunning {
		out.FinishedDateTime = sqldb.FormatTime(op.FinishesAt)
	}
	return out
}

type deploymentRequestBody struct {
	Operation      *string `json:"operation"`
	AssetKey       *string `json:"assetKey"`
	BuildKey       *string `json:"buildKey"`
	Revision       *int    `json:"revision"`
	EnvironmentKey *string `json:"environmentKey"`
}

// parseDeploymentRequest checks a POST's body as the document requires:
// operation and environmentKey always, assetKey always (nothing can be
// deployed, undeployed or configured without one), revision for Deploy and
// ApplyConfigs, buildKey for Deploy (other operations ignore it).
func parseDeploymentRequest(w http.ResponseWriter, r *http.Request) (deploymentRequest, error) {
	var body deploymentRequestBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		err = httpx.JSONEnd(dec)
	}
	if err != nil {
		return deploymentRequest{}, httpx.Invalidf(`Send a JSON object like {"operation": "Deploy", "assetKey": "...", "buildKey": "...", "revision": 1, "environmentKey": "..."}: %v.`, err)
	}
	var req deploymentRequest
	if body.Operation == nil || !slices.Contains(deploymentOperationTypes, *body.Operation) {
		got := "nothing"
		if body.Operation != nil {
			got = "'" + *body.Operation + "'"
		}
		return req, httpx.Invalidf("operation is required: use Deploy, Undeploy or ApplyConfigs, not %s.", got)
	}
	req.Operation = *body.Operation
	if body.EnvironmentKey == nil || *body.EnvironmentKey == "" {
		return req, httpx.Invalidf("environmentKey is required: the key of the stage to %s.", strings.ToLower(req.Operation))
	}
	if req.EnvironmentKey, err = httpx.ParseKey("environmentKey", *body.EnvironmentKey); err != nil {
		return req, err
	}
	if body.AssetKey == nil || *body.AssetKey == "" {
		return req, httpx.Invalidf("assetKey is required for %s.", req.Operation)
	}
	if req.AssetKey, err = httpx.ParseKey("assetKey", *body.AssetKey); err != nil {
		return req, err
	}
	if body.Revision != nil {
		if *body.Revision < 1 {
			return req, httpx.Invalidf("revision must be 1 or more, not %d.", *body.Revision)
		}
		req.Revision = *body.Revision
	} else if req.Operation != operationUndeploy {
		return req, httpx.Invalidf("revision is required for %s.", req.Operation)
	}
	switch {
	case req.Operation == operationDeploy && (body.BuildKey == nil || *body.BuildKey == ""):
		return req, httpx.Invalidf("buildKey is required for Deploy: the key of a Release build of revision %d (GET /api/builds/v1/build-operations?assetKey=...&assetRevision=%d&byBuildType=Release).", req.Revision, req.Revision)
	case req.Operation == operationDeploy:
		if req.BuildKey, err = httpx.ParseKey("buildKey", *body.BuildKey); err != nil {
			return req, err
		}
	}
	return req, nil
}

// handleStartDeployment starts a deployment operation; it answers 201 at
// once with status Running.
func (s *Service) handleStartDeployment(w http.ResponseWriter, r *http.Request, caller string) {
	req, err := parseDeploymentRequest(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now()
	op, err := s.startDeployment(r.Context(), req, caller, s.deployDuration, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", deploymentBase+"/deployment-operations/"+op.Key)
	httpx.WriteJSON(w, http.StatusCreated, s.deploymentOpJSON(op, now))
}

// permissionFilterPattern is the documented format of permissionFilter.
var permissionFilterPattern = regexp.MustCompile(`^(AppViewSourceCode|AppDebug|AppChange|AppDelete|AppDeploy|AppRelease|AppMonitor|AppMonitorUserInfo|AppSecurityView|CodeQualityManage|CodeQualityView|AppUserView|AppAccessManage|AppGroupManage|CfgView|ConnConfig|AppCfgChange)(\.[0-9a-fA-F-]{36})?$`)

// deploymentSorts maps the documented sort values to comparisons.
var deploymentSorts = map[string]func(x, y *DeploymentOperation) int{
	"CreatedAt":      func(x, y *DeploymentOperation) int { return x.StartedAt.Compare(y.StartedAt) },
	"UpdatedAt":      func(x, y *DeploymentOperation) int { return x.FinishesAt.Compare(y.FinishesAt) },
	"FinishedAt":     func(x, y *DeploymentOperation) int { return x.FinishesAt.Compare(y.FinishesAt) },
	"AssetKey":       func(x, y *DeploymentOperation) int { return strings.Compare(x.AssetKey, y.AssetKey) },
	"ApplicationKey": func(x, y *DeploymentOperation) int { return strings.Compare(x.AssetKey, y.AssetKey) },
	"AssetName": func(x, y *DeploymentOperation) int {
		return strings.Compare(strings.ToLower(x.AssetName), strings.ToLower(y.AssetName))
	},
	"ApplicationName": func(x, y *DeploymentOperation) int {
		return strings.Compare(strings.ToLower(x.AssetName), strings.ToLower(y.AssetName))
	},
}

// listDeploymentOperations lists deployment operations matching the
// filters, newest first unless sorted otherwise.
func (s *Service) listDeploymentOperations(w http.ResponseWriter, r *http.Request, _ string) {
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
	f := deploymentOpFilter{assetKey: oq.assetKey, environmentKey: oq.environmentKey, revision: oq.revision}
	for _, o := range queryList(q, "operations") {
		if !slices.Contains(deploymentOperationTypes, o) {
			s.fail(w, r, httpx.Invalidf("Unknown operation '%s' in operations: use Deploy, Undeploy or ApplyConfigs.", o))
			return
		}
		f.operations = append(f.operations, o)
	}
	if pf := q.Get("permissionFilter"); pf != "" && !permissionFilterPattern.MatchString(pf) {
		s.fail(w, r, httpx.Invalidf("permissionFilter '%s' is not valid: use a permission type such as AppDeploy, optionally followed by '.' and a stage key.", pf))
		return
	}
	var order []func(x, y *DeploymentOperation) int
	for _, key := range queryList(q, "sort") {
		desc := strings.HasPrefix(key, "-")
		cmpFn, ok := deploymentSorts[strings.TrimPrefix(key, "-")]
		if !ok {
			s.fail(w, r, httpx.Invalidf("Unknown sort '%s': use CreatedAt, UpdatedAt, ApplicationKey, AssetKey, ApplicationName, AssetName or FinishedAt, with '-' for descending.", key))
			return
		}
		if desc {
			order = append(order, func(x, y *DeploymentOperation) int { return -cmpFn(x, y) })
		} else {
			order = append(order, cmpFn)
		}
	}
	now := time.Now()
	ops, err := s.deploymentOps(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if portfolio := q.Get("portfolioKey"); portfolio != "" && !strings.EqualFold(portfolio, s.meta.PortfolioKey) {
		ops = nil
	}
	ops = slices.DeleteFunc(ops, func(op *DeploymentOperation) bool {
		return oq.status != "" && op.status(now) != oq.status || !oq.startedWithin(op.StartedAt)
	})
	if len(order) > 0 {
		slices.SortStableFunc(ops, func(x, y *DeploymentOperation) int {
			c := 0
			for _, o := range order {
				c = cmp.Or(c, o(x, y))
			}
			return c
		})
	}
	out := make([]deploymentOperationJSON, len(ops))
	for i, op := range ops {
		out[i] = s.deploymentOpJSON(op, now)
	}
	page, next := pageOf(out, p)
	httpx.WriteJSON(w, http.StatusOK, pagedList[deploymentOperationJSON]{Results: page,
		Page: int32PageInfo{Count: len(page), Limit: p.limit, Offset: p.offset, NextPageOffset: next}})
}

func (s *Service) deploymentOpByKey(w http.ResponseWriter, r *http.Request) (*DeploymentOperation, bool) {
	key, err := httpx.ParseKey("operationKey", r.PathValue("operationKey"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	ops, err := s.deploymentOps(r.Context(), deploymentOpFilter{key: key})
	if err == nil && len(ops) == 0 {
		err = httpx.NotFoundf("Deployment operation with key '%s' was not found.", key)
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return ops[0], true
}

func (s *Service) getDeploymentOperation(w http.ResponseWriter, r *http.Request, _ string) {
	if op, ok := s.deploymentOpByKey(w, r); ok {
		httpx.WriteJSON(w, http.StatusOK, s.deploymentOpJSON(op, time.Now()))
	}
}

// listDeploymentMessages lists the messages an operation logged so far.
func (s *Service) listDeploymentMessages(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", DefaultLimit, 1, MaxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	offset, err := queryInt(q, "offset", 0, 0, 1<<31-1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	op, ok := s.deploymentOpByKey(w, r)
	if !ok {
		return
	}
	msgs, err := s.deploymentMessages(r.Context(), op.Key, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]taskMessage, len(msgs))
	for i, m := range msgs {
		out[i] = taskMessage{Timestamp: sqldb.FormatTime(m.At), Type: m.Type, Severity: m.Severity, Message: m.Message,
			AdditionalInfo: messageDetails{StepID: m.StepID, AssetKey: optional(m.AssetKey)}}
	}
	p := paging{limit: limit, offset: offset}
	page, next := pageOf(out, p)
	info := stringPageInfo{Count: len(page), Limit: p.limit, Offset: str(strconv.Itoa(p.offset))}
	if next != nil {
		info.NextPageOffset = str(strconv.Itoa(*next))
	}
	httpx.WriteJSON(w, http.StatusOK, pagedList[taskMessage]{Results: page, Page: info})
}
