package s3_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/localaws"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/s3"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const bucket = "reports-test"

// recorder keeps the headers of every PUT the stand-in receives, so a test
// can see what the adapter asked S3 for.
type recorder struct {
	mu   sync.Mutex
	puts []http.Header
}

func newReports(t *testing.T) (*s3.Reports, *recorder, *httptest.Server) {
	t.Helper()
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket(bucket))
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	rec := &recorder{}
	inner := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			rec.mu.Lock()
			rec.puts = append(rec.puts, r.Header.Clone())
			rec.mu.Unlock()
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	client := awss3.NewFromConfig(localaws.Config(), func(o *awss3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	return s3.New(client, bucket), rec, srv
}

func TestPutExistsAndDownload(t *testing.T) {
	r, rec, _ := newReports(t)
	ctx := context.Background()
	key := "reports/2026/03/0123456789abcdef0123456789abcdef.pdf"
	pdf := []byte("%PDF-1.4 relatório")

	exists, err := r.Exists(ctx, key)
	require.NoError(t, err)
	assert.False(t, exists)

	require.NoError(t, r.Put(ctx, key, pdf))
	exists, err = r.Exists(ctx, key)
	require.NoError(t, err)
	assert.True(t, exists)

	require.Len(t, rec.puts, 1)
	h := rec.puts[0]
	assert.Equal(t, "AES256", h.Get("X-Amz-Server-Side-Encryption"), "encrypted at rest")
	assert.Equal(t, "application/pdf", h.Get("Content-Type"))
	assert.Empty(t, h.Get("X-Amz-Acl"), "no ACL: private to the bucket owner")

	u, expiresAt, err := r.PresignGet(ctx, key, credit.ReportURLTTL)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(5*time.Minute), expiresAt, 5*time.Second)
	res, err := http.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, pdf, body)
}

func TestPresignedURLExpiry(t *testing.T) {
	r, _, srv := newReports(t)
	ctx := context.Background()
	for _, ttl := range []time.Duration{time.Second, credit.ReportURLTTL, time.Hour} {
		before := time.Now().UTC().Truncate(time.Second)
		raw, expiresAt, err := r.PresignGet(ctx, "reports/k.pdf", ttl)
		require.NoError(t, err)
		after := time.Now().UTC()
		u, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, srv.URL[len("http://"):], u.Host, "points at the configured endpoint")
		q := u.Query()
		assert.Equal(t, strconv.Itoa(int(ttl/time.Second)), q.Get("X-Amz-Expires"), "S3 refuses the URL after exactly ttl")
		assert.Equal(t, "AWS4-HMAC-SHA256", q.Get("X-Amz-Algorithm"))
		assert.NotEmpty(t, q.Get("X-Amz-Signature"))
		signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
		require.NoError(t, err)
		assert.False(t, signed.Before(before) || signed.After(after), "signed now")
		assert.Equal(t, signed.Add(ttl), expiresAt, "expiresAt is the signature's own expiry")
	}
}

func TestPresignRefusesAbsurdTTLs(t *testing.T) {
	r, _, _ := newReports(t)
	for _, ttl := range []time.Duration{0, -time.Minute, s3.MaxPresignTTL + time.Second} {
		_, _, err := r.PresignGet(context.Background(), "reports/k.pdf", ttl)
		assert.Equal(t, credit.CodeInternal, credit.ErrorCode(err), ttl.String())
	}
}

func TestErrorsAreInternal(t *testing.T) {
	r, _, srv := newReports(t)
	srv.Close() // nothing answers any more
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.Put(ctx, "reports/k.pdf", []byte("x"))
	assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))
	_, err = r.Exists(ctx, "reports/k.pdf")
	assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))
}

func TestReportStoreContract(t *testing.T) {
	credittest.ReportStore(t, func(t *testing.T) (credit.ReportStore, func(string) ([]byte, error)) {
		r, _, _ := newReports(t)
		return r, func(u string) ([]byte, error) {
			resp, err := http.Get(u)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
			}
			return io.ReadAll(resp.Body)
		}
	})
}

func TestReportArchiveContract(t *testing.T) {
	credittest.ReportArchive(t, func(t *testing.T) credit.ReportArchive {
		r, _, _ := newReports(t)
		return r
	})
}

// TestReportDataEncrypted: the archived report is written as the PDFs are,
// encrypted at rest and never cached.
func TestReportDataEncrypted(t *testing.T) {
	r, rec, _ := newReports(t)
	require.NoError(t, r.PutReport(context.Background(), "reports/2026/11/k.json.gz", credittest.FullReport()))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.puts, 1)
	assert.Equal(t, "AES256", rec.puts[0].Get("X-Amz-Server-Side-Encryption"))
	assert.Equal(t, "private, no-store", rec.puts[0].Get("Cache-Control"))
}
