package main

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"time"
)

// zipEpoch is every entry's modification time: the same bootstrap gives the
// same zip bytes, so an unchanged function is not uploaded again.
var zipEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// writeZip writes out holding file at its base name with mode 0755, as
// Lambda's provided runtimes need an executable bootstrap.
func writeZip(out, file string) (err error) {
	src, err := os.Open(file)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := out + ".tmp"
	dst, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	zw := zip.NewWriter(dst)
	h := &zip.FileHeader{Name: filepath.Base(file), Method: zip.Deflate, Modified: zipEpoch}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, src); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
