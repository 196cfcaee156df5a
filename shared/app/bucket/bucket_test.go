package bucket_test

import (
	"testing"

	"creditanalysis/shared/app"
	"creditanalysis/shared/app/bucket"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The S3 client follows AWS_ENDPOINT_URL_S3 (empty in AWS, the stand-in
// locally) and S3_FORCE_PATH_STYLE.
func TestS3FromEnvironment(t *testing.T) {
	for _, tt := range []struct {
		name, endpoint, pathStyle string
		wantEndpoint              *string
		wantPathStyle             bool
	}{
		{"AWS", "", "", nil, false},
		{"stand-in, path style", "http://127.0.0.1:4999", "true", aws.String("http://127.0.0.1:4999"), true},
		{"stand-in, virtual hosts", "http://127.0.0.1:4999", "false", aws.String("http://127.0.0.1:4999"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "sa-east-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "x")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
			t.Setenv("AWS_ENDPOINT_URL", "")
			t.Setenv("AWS_ENDPOINT_URL_S3", tt.endpoint)
			t.Setenv("S3_FORCE_PATH_STYLE", tt.pathStyle)
			t.Setenv("REPORT_BUCKET", "reports")
			awsCfg, err := app.AWSConfig()
			require.NoError(t, err)
			cfg := bucket.ConfigFromEnv()
			assert.Equal(t, "reports", cfg.ReportBucket)
			opts := bucket.S3(awsCfg, cfg).Options()
			assert.Equal(t, tt.wantEndpoint, opts.BaseEndpoint)
			assert.Equal(t, tt.wantPathStyle, opts.UsePathStyle)
		})
	}
}
