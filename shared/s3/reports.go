// Package s3 is the report store on Amazon S3: report PDFs written private
// and server-side encrypted, read back only through short-lived presigned
// URLs, and beside them the full reports (too large for a table item),
// private and encrypted alike.
package s3

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/reportdoc"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// MaxPresignTTL is the longest validity S3 accepts for a presigned URL.
const MaxPresignTTL = 7 * 24 * time.Hour

// Reports implements credit.ReportStore on one bucket.
type Reports struct {
	client  *awss3.Client
	presign *awss3.PresignClient
	bucket  string
}

var _ credit.ReportStore = (*Reports)(nil)

// New returns the store on bucket using client (built once per cold start).
func New(client *awss3.Client, bucket string) *Reports {
	return &Reports{client: client, presign: awss3.NewPresignClient(client), bucket: bucket}
}

// Put writes the PDF private (the bucket owner's only, no ACL) and
// encrypted at rest, whatever the bucket's default says.
func (r *Reports) Put(ctx context.Context, key string, pdf []byte) error {
	_, err := r.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:               aws.String(r.bucket),
		Key:                  aws.String(key),
		Body:                 bytes.NewReader(pdf),
		ContentLength:        aws.Int64(int64(len(pdf))),
		ContentType:          aws.String("application/pdf"),
		ContentDisposition:   aws.String(`inline; filename="relatorio-de-consulta.pdf"`),
		CacheControl:         aws.String("private, no-store"),
		ServerSideEncryption: types.ServerSideEncryptionAes256,
	})
	if err != nil {
		return credit.Internal(err, "s3: put report")
	}
	return nil
}

// Delete removes key's object; S3 answers a missing key with success too.
// The bucket keeps no versions, so nothing of the report remains.
func (r *Reports) Delete(ctx context.Context, key string) error {
	if _, err := r.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(key)}); err != nil {
		return credit.Internal(err, "s3: delete report")
	}
	return nil
}

// Exists asks for the object's head: the bucket's lifecycle expires old
// reports.
func (r *Reports) Exists(ctx context.Context, key string) (bool, error) {
	_, err := r.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(key)})
	if err == nil {
		return true, nil
	}
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	var api smithy.APIError
	if errors.As(err, &nf) || errors.As(err, &nsk) || (errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey")) {
		return false, nil
	}
	return false, credit.Internal(err, "s3: head report")
}

// PresignGet signs a GET of key valid for ttl. expiresAt is read from the
// signature itself (signing time plus validity), so it is exactly when S3
// starts refusing the URL.
func (r *Reports) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 || ttl > MaxPresignTTL {
		return "", time.Time{}, credit.Internal(fmt.Errorf("ttl %s outside (0, %s]", ttl, MaxPresignTTL), "s3: presign report")
	}
	req, err := r.presign.PresignGetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(r.bucket), Key: aws.String(key),
		ResponseContentType: aws.String("application/pdf"),
	}, awss3.WithPresignExpires(ttl))
	if err != nil {
		return "", time.Time{}, credit.Internal(err, "s3: presign report")
	}
	expiresAt, err := signatureExpiry(req.URL)
	if err != nil {
		return "", time.Time{}, credit.Internal(err, "s3: presign report")
	}
	return req.URL, expiresAt, nil
}

// signatureExpiry reads X-Amz-Date and X-Amz-Expires of a SigV4 presigned
// URL.
func signatureExpiry(raw string) (time.Time, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return time.Time{}, err
	}
	q := u.Query()
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("presigned URL without X-Amz-Date: %w", err)
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil {
		return time.Time{}, fmt.Errorf("presigned URL without X-Amz-Expires: %w", err)
	}
	return signed.Add(time.Duration(secs) * time.Second), nil
}

var _ credit.ReportArchive = (*Reports)(nil)

// PutReport writes the report as gzipped JSON, private and encrypted at
// rest like the PDFs; the bucket's lifecycle expires both alike.
func (r *Reports) PutReport(ctx context.Context, key string, rep credit.Report) error {
	var buf bytes.Buffer
	js, err := reportdoc.Marshal(rep)
	if err != nil {
		return credit.Internal(err, "s3: encode report")
	}
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(js); err != nil {
		return credit.Internal(err, "s3: compress report")
	}
	if err := zw.Close(); err != nil {
		return credit.Internal(err, "s3: compress report")
	}
	_, err = r.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:               aws.String(r.bucket),
		Key:                  aws.String(key),
		Body:                 bytes.NewReader(buf.Bytes()),
		ContentLength:        aws.Int64(int64(buf.Len())),
		ContentType:          aws.String("application/json"),
		ContentEncoding:      aws.String("gzip"),
		CacheControl:         aws.String("private, no-store"),
		ServerSideEncryption: types.ServerSideEncryptionAes256,
	})
	if err != nil {
		return credit.Internal(err, "s3: put report data")
	}
	return nil
}

// GetReport reads a report PutReport wrote; not_found when the key holds
// none.
func (r *Reports) GetReport(ctx context.Context, key string) (credit.Report, error) {
	out, err := r.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		var api smithy.APIError
		if errors.As(err, &nsk) || (errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")) {
			return credit.Report{}, credit.NotFound("Relatório")
		}
		return credit.Report{}, credit.Internal(err, "s3: get report data")
	}
	defer out.Body.Close()
	zr, err := gzip.NewReader(out.Body)
	if err != nil {
		return credit.Report{}, credit.Internal(err, "s3: decompress report")
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		return credit.Report{}, credit.Internal(err, "s3: decompress report")
	}
	rep, err := reportdoc.Unmarshal(js)
	if err != nil {
		return credit.Report{}, credit.Internal(err, "s3: decode report")
	}
	return rep, nil
}

// DeleteReport removes an archived report, like Delete a PDF.
func (r *Reports) DeleteReport(ctx context.Context, key string) error {
	return r.Delete(ctx, key)
}
