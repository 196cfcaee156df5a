package main

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteZip(t *testing.T) {
	dir := t.TempDir()
	bootstrap := filepath.Join(dir, "bootstrap")
	require.NoError(t, os.WriteFile(bootstrap, []byte("\x7fELF binary"), 0o755))
	out := filepath.Join(dir, "f.zip")

	require.NoError(t, writeZip(out, bootstrap))

	zr, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer zr.Close()
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	assert.Equal(t, "bootstrap", f.Name)
	assert.Equal(t, os.FileMode(0o755), f.Mode().Perm(), "Lambda needs an executable bootstrap")
	rc, err := f.Open()
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, "\x7fELF binary", string(b))

	first, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, writeZip(out, bootstrap))
	second, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, first, second, "the same input gives the same bytes")
	_, err = os.Stat(out + ".tmp")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestWriteZipMissingInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.zip")
	assert.Error(t, writeZip(out, filepath.Join(t.TempDir(), "nope")))
	_, err := os.Stat(out)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
