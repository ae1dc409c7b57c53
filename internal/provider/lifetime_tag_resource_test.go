package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

const tagAddr = "outsystems_lifetime_tag.test"

func (e *testEnv) tagConfig(app, version, changeLog string) string {
	v := ""
	if version != "" {
		v = fmt.Sprintf("version = %q", version)
	}
	return e.providerConfig() + fmt.Sprintf(`
resource "outsystems_lifetime_tag" "test" {
  environment_key = %q
  application_key = %q
  %s
  change_log      = %q
}
`, e.envKey("Development"), e.appKey(app), v, changeLog)
}

// checkRunning checks in the sandbox that the tag is the running version of
// the app in Development and that the app has no changes since.
func (e *testEnv) checkRunning(app string, id *string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		key, modified := e.runningVersionKey(app)
		if key != *id {
			return fmt.Errorf("LifeTime's running version of %s is %s, want the tag %s", app, key, *id)
		}
		if modified {
			return fmt.Errorf("%s is still IsModified after the tag", app)
		}
		return nil
	}
}

func TestAccLifeTimeTag_lifecycle(t *testing.T) {
	e := newTestEnv(t)
	var first, second, third string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// Destroy deletes the tag where LifeTime allows it. The last tag is the
		// running version, which LifeTime keeps: it must still be there.
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkTagsDestroyed(e),
			func(*terraform.State) error {
				if _, err := e.lt.GetApplicationVersion(context.Background(), e.appKey("Customer Portal"), third); err != nil {
					return fmt.Errorf("the running version was expected to be kept by LifeTime: %w", err)
				}
				return nil
			},
		),
		Steps: []resource.TestStep{
			{ // create
				Config: e.tagConfig("Customer Portal", "1.3.0", "Ready for ODC"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(tagAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(tagAddr, tfjsonpath.New("application_name"), knownvalue.StringExact("Customer Portal")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(tagAddr, &first),
					resource.TestCheckResourceAttr(tagAddr, "version", "1.3.0"),
					resource.TestCheckResourceAttr(tagAddr, "change_log", "Ready for ODC"),
					resource.TestCheckResourceAttr(tagAddr, "application_name", "Customer Portal"),
					resource.TestCheckResourceAttrSet(tagAddr, "created_on"),
					e.checkRunning("Customer Portal", &first),
				),
			},
			{ // import by <application_key>/<version_key>
				ResourceName:      tagAddr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					return e.appKey("Customer Portal") + "/" + s.RootModule().Resources[tagAddr].Primary.ID, nil
				},
			},
			{ // any argument change replaces the tag
				Config: e.tagConfig("Customer Portal", "1.3.1", "Ready for ODC, second wave"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(tagAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(tagAddr, &second),
					resource.TestCheckResourceAttr(tagAddr, "version", "1.3.1"),
					func(*terraform.State) error {
						if second == first {
							return fmt.Errorf("replacement kept the id %s", first)
						}
						// 1.3.0 was running when it was destroyed, so LifeTime kept it.
						if _, err := e.lt.GetApplicationVersion(context.Background(), e.appKey("Customer Portal"), first); err != nil {
							return fmt.Errorf("the replaced running version should be kept by LifeTime: %w", err)
						}
						return nil
					},
					e.checkRunning("Customer Portal", &second),
				),
			},
			{ // deleted out of band: a newer tag is made, then the old version deleted; the plan recreates it
				PreConfig: func() {
					ctx := context.Background()
					newer, err := e.lt.CreateApplicationVersion(ctx, e.envKey("Development"), e.appKey("Customer Portal"), client.CreateVersionRequest{Version: "5.0.0"})
					if err != nil {
						t.Fatalf("out-of-band tag: %v", err)
					}
					// LifeTime processes the tag before it runs; until then the
					// old version is in use and cannot be deleted.
					e.waitRunning("Customer Portal", newer)
					if err := e.lt.DeleteApplicationVersion(ctx, e.appKey("Customer Portal"), second); err != nil {
						t.Fatalf("out-of-band delete: %v", err)
					}
				},
				Config: e.tagConfig("Customer Portal", "1.3.1", "Ready for ODC, second wave"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(tagAddr, plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(tagAddr, &third),
					func(*terraform.State) error {
						if third == second {
							return fmt.Errorf("the recreated tag has the deleted id %s", second)
						}
						return nil
					},
					e.checkRunning("Customer Portal", &third),
				),
			},
		},
	})
}

func TestAccLifeTimeTag_defaultVersionAndMobile(t *testing.T) {
	e := newTestEnv(t)
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_lifetime_tag" "test" {
  environment_key = %q
  application_key = %q
  mobile_versions = [
    { platform = "Android", version_number = "1.2.1", description = "Play Store build" },
    { platform = "iOS", version_number = "1.2.1" },
  ]
}
`, e.envKey("Development"), e.appKey("Agent Mobile"))
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				// Without `version` the plan promises none (a saved plan must
				// hold when someone tags in between); the apply takes the next
				// patch after the running 1.2.0.
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(tagAddr, tfjsonpath.New("version")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(tagAddr, &id),
					resource.TestCheckResourceAttr(tagAddr, "version", "1.2.1"),
					resource.TestCheckNoResourceAttr(tagAddr, "change_log"),
					resource.TestCheckResourceAttr(tagAddr, "mobile_versions.#", "2"),
					resource.TestCheckResourceAttr(tagAddr, "mobile_versions.0.platform", "Android"),
					resource.TestCheckResourceAttr(tagAddr, "mobile_versions.0.description", "Play Store build"),
					resource.TestCheckNoResourceAttr(tagAddr, "mobile_versions.1.description"),
					e.checkRunning("Agent Mobile", &id),
				),
			},
			{ // import with the explicit three-part form
				ResourceName:      tagAddr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					return e.envKey("Development") + "/" + e.appKey("Agent Mobile") + "/" + s.RootModule().Resources[tagAddr].Primary.ID, nil
				},
			},
		},
	})
}

func TestAccLifeTimeTag_nextVersionSkipsUsedOnes(t *testing.T) {
	e := newTestEnv(t)
	// Production runs Legacy Intranet 3.5.0, and 3.5.1 is already used (it
	// runs in Development): the next free patch version is 3.5.2.
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_lifetime_tag" "test" {
  environment_key   = %q
  application_key   = %q
  force_new_version = true # Legacy Intranet has no changes in Production: without it the running version is adopted
}
`, e.envKey("Production"), e.appKey("Legacy Intranet"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check:  resource.TestCheckResourceAttr(tagAddr, "version", "3.5.2"),
		}},
	})
}

func TestParseTagImportID(t *testing.T) {
	g1, g2, g3 := "c0506a98-9c27-4b6a-9a14-0cc99837071d", "f835df35-b6a0-4424-bc62-d26643f8d8ac", "0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"
	if env, app, ver, err := parseTagImportID(g2 + "/" + g3); err != nil || env != "" || app != g2 || ver != g3 {
		t.Errorf("two parts: %q %q %q %v", env, app, ver, err)
	}
	if env, app, ver, err := parseTagImportID(g1 + "/" + g2 + "/" + g3); err != nil || env != g1 || app != g2 || ver != g3 {
		t.Errorf("three parts: %q %q %q %v", env, app, ver, err)
	}
	for _, bad := range []string{"", g2, g2 + "/", "x/" + g3, g2 + "/y", "z/" + g2 + "/" + g3, g1 + "/" + g2 + "/" + g3 + "/" + g3} {
		if _, _, _, err := parseTagImportID(bad); err == nil {
			t.Errorf("parseTagImportID(%q) accepted", bad)
		}
	}
}

func TestBumpPatch(t *testing.T) {
	for in, want := range map[string]string{"1": "1.0.1", "1.2": "1.2.1", "1.2.3": "1.2.4", "1.2.3.9": "1.2.3.10", "0.1.0": "0.1.1"} {
		if got, err := bumpPatch(in); err != nil || got != want {
			t.Errorf("bumpPatch(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "v1", "1..2", "1.2.3.4.5"} {
		if _, err := bumpPatch(bad); err == nil {
			t.Errorf("bumpPatch(%q) accepted", bad)
		}
	}
}

// waitRunning waits until LifeTime has processed a tag: the version is the
// application's running version in Development, where the tests tag.
func (e *testEnv) waitRunning(app, versionKey string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		key, _ := e.runningVersionKey(app)
		if key == versionKey {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s never ran version %s in Development (still %s)", app, versionKey, key)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAccLifeTimeTag_waitsForProcessing: LifeTime processes a tag for a
// while (the sandbox's tag delay); the create returns only once the version
// is readable and running, and the next refresh finds it.
func TestAccLifeTimeTag_waitsForProcessing(t *testing.T) {
	e := newTestEnv(t)
	var id string
	var start time.Time
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []resource.TestStep{{
			PreConfig: func() { start = time.Now() },
			Config:    e.tagConfig("Policy Admin", "", "Ready for ODC"),
			Check: resource.ComposeAggregateTestCheckFunc(
				captureID(tagAddr, &id),
				resource.TestCheckResourceAttr(tagAddr, "version", "1.2.1"),
				resource.TestCheckResourceAttrSet(tagAddr, "created_on"),
				e.checkRunning("Policy Admin", &id),
				func(*terraform.State) error {
					if waited := time.Since(start); waited < testLifeTimeTagDelay {
						return fmt.Errorf("the apply took %s, less than LifeTime's processing time %s", waited, testLifeTimeTagDelay)
					}
					return nil
				},
			),
		}},
	})
}

// TestAccLifeTimeTag_adoptsUnmodifiedApp: without `version`, an app with no
// changes since its last tag is not tagged again; its running version is
// adopted. force_new_version tags anyway.
func TestAccLifeTimeTag_adoptsUnmodifiedApp(t *testing.T) {
	e := newTestEnv(t)
	running, _ := e.runningVersionKey("Claims Core")
	cfg := func(force bool) string {
		return e.providerConfig() + fmt.Sprintf(`
resource "outsystems_lifetime_tag" "test" {
  environment_key   = %q
  application_key   = %q
  change_log        = "Ready for ODC"
  force_new_version = %t
}
`, e.envKey("Development"), e.appKey("Claims Core"), force)
	}
	countVersions := func(want int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			vs, err := e.lt.ListApplicationVersions(context.Background(), e.appKey("Claims Core"), 50)
			if err != nil {
				return err
			}
			if len(vs) != want {
				return fmt.Errorf("Claims Core has %d versions, want %d", len(vs), want)
			}
			return nil
		}
	}
	var forced string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []resource.TestStep{
			{ // unmodified: the running 1.0.1 is adopted, no tag is made
				Config: cfg(false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(tagAddr, tfjsonpath.New("version")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(tagAddr, "id", running),
					resource.TestCheckResourceAttr(tagAddr, "version", "1.0.1"),
					resource.TestCheckResourceAttr(tagAddr, "change_log", "Ready for ODC"),
					countVersions(2),
				),
			},
			{ // the adopted version keeps the configuration: no diff
				Config:             cfg(false),
				PlanOnly:           true,
				ExpectNonEmptyPlan: false,
			},
			{ // forced: a new tag
				Config: cfg(true),
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(tagAddr, &forced),
					resource.TestCheckResourceAttr(tagAddr, "version", "1.0.2"),
					e.checkRunning("Claims Core", &forced),
					countVersions(3),
				),
			},
		},
	})
}

// TestAccLifeTimeTag_modifiedAppIsTagged: the same configuration tags an
// app once it has changes since its last tag (marked in the sandbox).
func TestAccLifeTimeTag_modifiedAppIsTagged(t *testing.T) {
	e := newTestEnv(t)
	if err := e.sb.MarkModified(e.envKey("Development"), e.appKey("Claims Core"), true); err != nil {
		t.Fatal(err)
	}
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []resource.TestStep{{
			Config: e.tagConfig("Claims Core", "", "Ready for ODC"),
			Check: resource.ComposeAggregateTestCheckFunc(
				captureID(tagAddr, &id),
				resource.TestCheckResourceAttr(tagAddr, "version", "1.0.2"),
				e.checkRunning("Claims Core", &id),
			),
		}},
	})
}

// TestAccLifeTimeTag_refusedDeleteKeptWithWarning: destroying a tag that
// is the running version sends no DELETE (LifeTime would refuse it with a
// 500, and a DELETE answered 500 would fail the destroy): the destroy
// succeeds with a warning, the version stays.
func TestAccLifeTimeTag_refusedDeleteKeptWithWarning(t *testing.T) {
	e := newTestEnv(t)
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkTagsDestroyed(e),
			func(*terraform.State) error {
				if _, err := e.lt.GetApplicationVersion(context.Background(), e.appKey("Customer Portal"), id); err != nil {
					return fmt.Errorf("the running tag should be kept: %w", err)
				}
				return nil
			},
		),
		Steps: []resource.TestStep{{
			Config: e.tagConfig("Customer Portal", "1.3.0", "Ready for ODC"),
			Check:  captureID(tagAddr, &id),
		}},
	})
}

// TestAccLifeTimeTag_consoleURL: the provider accepts the LifeTime console
// address (…/lifetime) and calls the API on that host.
func TestAccLifeTimeTag_consoleURL(t *testing.T) {
	e := newTestEnv(t)
	cfg := strings.Replace(e.tagConfig("Customer Portal", "1.3.0", "Ready for ODC"), fmt.Sprintf("url   = %q", e.url), fmt.Sprintf("url   = %q", e.url+"/lifetime"), 1)
	if !strings.Contains(cfg, e.url+"/lifetime") {
		t.Fatal("the console URL did not make it into the configuration")
	}
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				captureID(tagAddr, &id),
				e.checkRunning("Customer Portal", &id),
			),
		}},
	})
}

// TestAccLifeTimeTag_processingOutlastsTimeout: when LifeTime takes longer
// to process a tag than timeouts.create, the apply fails naming what it
// waited for and the last status, the new version stays in state, and a
// refresh while LifeTime still answers 404 keeps it.
func TestAccLifeTimeTag_processingOutlastsTimeout(t *testing.T) {
	e := newTestEnvWith(t, time.Minute) // still processing for the whole test
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_lifetime_tag" "test" {
  environment_key = %q
  application_key = %q
  version         = "1.3.0"
  timeouts = {
    create = "200ms"
  }
}
`, e.envKey("Development"), e.appKey("Customer Portal"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []resource.TestStep{
			{
				Config:      cfg,
				ExpectError: errorRe("waiting for LifeTime to process tag", "not readable yet (404"),
			},
			{ // still processing: the refresh keeps the tag (tainted by the failed create, so a replacement is planned)
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrSet(tagAddr, "id"),
					resource.TestCheckResourceAttr(tagAddr, "version", "1.3.0"),
				),
			},
		},
	})
}

func TestTagTargetAdoptionAndMobileVersions(t *testing.T) {
	running := &client.ApplicationVersion{Key: "k", Version: "1.2.0"}
	unmodified := &tagTarget{running: running}
	if !unmodified.adoptable(false) {
		t.Error("an unmodified app is not adoptable")
	}
	if unmodified.adoptable(true) {
		t.Error("force_new_version did not force a tag")
	}
	if (&tagTarget{}).adoptable(false) {
		t.Error("an app never tagged is adoptable")
	}
	if (&tagTarget{running: running, status: client.AppStatusInEnv{IsModified: true}}).adoptable(false) {
		t.Error("a modified app is adoptable")
	}
	shell := &tagTarget{running: running, status: client.AppStatusInEnv{MobileAppsStatus: []client.MobileAppStatus{
		{NativePlatform: "Android", VersionNumber: "2.3.0", IsModified: true},
		{NativePlatform: "iOS", VersionNumber: "2.3.0"},
	}}}
	if shell.adoptable(false) {
		t.Error("an app whose native shell changed is adoptable")
	}
	got := shell.derivedMobileVersions()
	if len(got) != 1 || got[0].NativePlatform != "Android" || got[0].VersionNumber != "2.3.1" {
		t.Errorf("derivedMobileVersions = %+v, want Android 2.3.1 only", got)
	}
}
