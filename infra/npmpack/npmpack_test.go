package npmpack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeNPM puts an `npm` on PATH whose `pack` writes a tarball of files
// into --pack-destination, and counts its calls.
func fakeNPM(t *testing.T, files map[string]string) (calls func() int) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())

	bin := t.TempDir()
	tgz := filepath.Join(bin, "pkg-1.0.0.tgz")
	require.NoError(t, os.WriteFile(tgz, buf.Bytes(), 0o644))
	count := filepath.Join(bin, "calls")
	script := `#!/bin/sh
echo x >> "` + count + `"
while [ $# -gt 0 ]; do
  if [ "$1" = "--pack-destination" ]; then cp "` + tgz + `" "$2/"; fi
  shift
done
echo pkg-1.0.0.tgz
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "npm"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "x")
	}
}

func topLevel(entry string) (string, bool) {
	name, ok := strings.CutPrefix(entry, "package/")
	return name, ok && !strings.Contains(name, "/")
}

func TestEnsureUnpacksOnceWhatPickKeeps(t *testing.T) {
	calls := fakeNPM(t, map[string]string{
		"package/tool.js":       "tool",
		"package/README.md":     "readme",
		"package/lib/nested.js": "nested",
		"other/outside-package": "x",
	})
	cache := t.TempDir()
	p := Package{Spec: "pkg@1.0.0", Dir: "pkg", Marker: "tool.js", Pick: topLevel}

	dir, err := Ensure(context.Background(), cache, p)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(cache, "pkg"), dir)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"tool.js", "README.md"}, names)

	_, err = Ensure(context.Background(), cache, p)
	require.NoError(t, err)
	assert.Equal(t, 1, calls(), "npm runs only while the marker is missing")
	leftovers, _ := filepath.Glob(filepath.Join(cache, "npm-pack-*"))
	assert.Empty(t, leftovers, "the download folder is removed")
}

func TestEnsureRefuses(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		pick  func(string) (string, bool)
		want  string
	}{
		{"no marker", map[string]string{"package/other.js": "x"}, topLevel, "tool.js not found"},
		{"path out of the folder", map[string]string{"package/tool.js": "x", "package/evil": "x"},
			func(e string) (string, bool) {
				if strings.HasSuffix(e, "evil") {
					return "../evil", true
				}
				return topLevel(e)
			}, "unsafe path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeNPM(t, tt.files)
			cache := t.TempDir()
			_, err := Ensure(context.Background(), cache, Package{Spec: "pkg@1.0.0", Dir: "pkg", Marker: "tool.js", Pick: tt.pick})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			_, statErr := os.Stat(filepath.Join(cache, "pkg"))
			assert.True(t, os.IsNotExist(statErr), "nothing half-unpacked is left as the tool")
		})
	}
}
