package provider

import (
	"strings"
	"testing"
)

// Fuzz tests of the provider's parsers: run with the seed corpus in make
// test, and longer with make fuzz.

func FuzzParseTagImportID(f *testing.F) {
	g := "0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"
	for _, s := range []string{g + "/" + g, g + "/" + g + "/" + g, "", "/", g, "a/b/c/d", " " + g + "/" + g + " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		env, app, ver, err := parseTagImportID(id)
		if err != nil {
			if !strings.Contains(err.Error(), "<application_key>/<version_key>") {
				t.Fatalf("error does not say the expected form: %v", err)
			}
			return
		}
		if !guidRegexp.MatchString(app) || !guidRegexp.MatchString(ver) || (env != "" && !guidRegexp.MatchString(env)) {
			t.Fatalf("parseTagImportID(%q) = %q %q %q", id, env, app, ver)
		}
	})
}

func FuzzParseReleaseImportID(f *testing.F) {
	g := "0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"
	for _, s := range []string{g + "/1", g + "/0", g + "/-1", g + "/x", g, "/1", g + "/1/2", g + "/99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		key, rev, err := parseReleaseImportID(id)
		if err != nil {
			return
		}
		if !guidRegexp.MatchString(key) || rev < 1 {
			t.Fatalf("parseReleaseImportID(%q) = %q, %d", id, key, rev)
		}
	})
}

func FuzzVersions(f *testing.F) {
	for _, s := range [][2]string{{"1.2.3", "1.2.4"}, {"1", "1.0.0"}, {"0.0.0", "10.0.0"}, {"1.2.3.4", "1.2.3"}, {"x", "1"}, {"999999999.1.1", "1.1.1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if next, err := bumpPatch(a); err == nil {
			if !lifeTimeVersionRegexp.MatchString(next) {
				t.Fatalf("bumpPatch(%q) = %q, not a LifeTime version", a, next)
			}
			if semverRegexp.MatchString(a) && compareVersions(next, a) <= 0 {
				t.Fatalf("bumpPatch(%q) = %q is not higher", a, next)
			}
		} else if lifeTimeVersionRegexp.MatchString(a) {
			// It refuses only what is not a LifeTime version (1 to 4 dotted numbers).
			t.Fatalf("bumpPatch(%q) refused a LifeTime version: %v", a, err)
		}
		if semverRegexp.MatchString(a) && semverRegexp.MatchString(b) {
			if c, r := compareVersions(a, b), compareVersions(b, a); c != -r {
				t.Fatalf("compareVersions(%q, %q) = %d but reversed %d", a, b, c, r)
			}
			if compareVersions(a, a) != 0 {
				t.Fatalf("compareVersions(%q, itself) != 0", a)
			}
			if (compareVersions(a, b) == 0) != (a == b) {
				t.Fatalf("compareVersions(%q, %q) = 0 for different versions", a, b)
			}
		}
		// The highest tag read from ODC may be any string (tags set in ODC
		// Studio): the comparison must still be antisymmetric.
		if c, r := compareVersions(a, b), compareVersions(b, a); c != -r {
			t.Fatalf("compareVersions(%q, %q) = %d but reversed %d", a, b, c, r)
		}
	})
}
