package secretsmanagerlocal

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The staging labels Secrets Manager gives meaning to.
const (
	StageCurrent  = "AWSCURRENT"
	StagePending  = "AWSPENDING"
	StagePrevious = "AWSPREVIOUS"
)

// maxVersions bounds how many versions a secret keeps; like AWS, the oldest
// versions without a label go first.
const maxVersions = 100

type state struct {
	Secrets map[string]*secret `json:"secrets"` // by name
}

type secret struct {
	ARN          string              `json:"arn"`
	Name         string              `json:"name"`
	Description  string              `json:"description,omitempty"`
	KMSKeyID     string              `json:"kmsKeyId,omitempty"`
	Tags         []Tag               `json:"tags,omitempty"`
	Created      time.Time           `json:"created"`
	Changed      time.Time           `json:"changed"`
	Deleted      *time.Time          `json:"deleted,omitempty"`
	DeletionDate *time.Time          `json:"deletionDate,omitempty"`
	Versions     map[string]*version `json:"versions"` // by version ID
}

type version struct {
	String  *string   `json:"string,omitempty"`
	Binary  []byte    `json:"binary,omitempty"`
	Stages  []string  `json:"stages"`
	Created time.Time `json:"created"`
}

// Tag is a secret's tag, as on the wire.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// epoch is a timestamp as AWS JSON encodes it: seconds since the epoch.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(e).UnixMilli())/1000, 'f', 3, 64)), nil
}

func ptrEpoch(t *time.Time) *epoch {
	if t == nil {
		return nil
	}
	e := epoch(*t)
	return &e
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "ResourceNotFoundException", Message: fmt.Sprintf(format, args...)}
}

func invalidParameter(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "InvalidRequestException", Message: fmt.Sprintf(format, args...)}
}

func resourceExists(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "ResourceExistsException", Message: fmt.Sprintf(format, args...)}
}

var errMarkedForDeletion = invalidRequest("You can't perform this operation on the secret because it was marked for deletion.")

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: "malformed JSON body"}
	}
	return nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

// find resolves a SecretId: a name or a full ARN.
func (s *Server) find(id string) (*secret, error) {
	if id == "" {
		return nil, invalidParameter("SecretId is required.")
	}
	if sec, ok := s.state.Secrets[id]; ok {
		return sec, nil
	}
	if strings.HasPrefix(id, "arn:") {
		for _, sec := range s.state.Secrets {
			if sec.ARN == id {
				return sec, nil
			}
		}
	}
	return nil, notFound("Secrets Manager can't find the specified secret.")
}

// findLive is find for the operations a deleted secret refuses.
func (s *Server) findLive(id string) (*secret, error) {
	sec, err := s.find(id)
	if err != nil {
		return nil, err
	}
	if sec.Deleted != nil {
		return nil, errMarkedForDeletion
	}
	return sec, nil
}

// holder returns the ID of the version carrying stage, or "".
func (sec *secret) holder(stage string) string {
	for id, v := range sec.Versions {
		if slices.Contains(v.Stages, stage) {
			return id
		}
	}
	return ""
}

func (sec *secret) detach(stage string, versionID string) {
	if v, ok := sec.Versions[versionID]; ok {
		v.Stages = slices.DeleteFunc(v.Stages, func(s string) bool { return s == stage })
	}
}

// attach moves stage to versionID; moving AWSCURRENT gives AWSPREVIOUS to
// the version that held it, as AWS does.
func (sec *secret) attach(stage, versionID string) {
	old := sec.holder(stage)
	if old == versionID {
		return
	}
	if old != "" {
		sec.detach(stage, old)
	}
	v := sec.Versions[versionID]
	v.Stages = append(v.Stages, stage)
	if stage == StageCurrent && old != "" {
		sec.attach(StagePrevious, old)
	}
}

// prune drops the oldest versions without a label beyond maxVersions.
func (sec *secret) prune() {
	if len(sec.Versions) <= maxVersions {
		return
	}
	var unlabeled []string
	for id, v := range sec.Versions {
		if len(v.Stages) == 0 {
			unlabeled = append(unlabeled, id)
		}
	}
	sort.Slice(unlabeled, func(i, j int) bool {
		return sec.Versions[unlabeled[i]].Created.Before(sec.Versions[unlabeled[j]].Created)
	})
	for _, id := range unlabeled {
		if len(sec.Versions) <= maxVersions {
			return
		}
		delete(sec.Versions, id)
	}
}

func (sec *secret) stagesByVersion() map[string][]string {
	out := map[string][]string{}
	for id, v := range sec.Versions {
		if len(v.Stages) > 0 {
			out[id] = slices.Clone(v.Stages)
		}
	}
	return out
}

func sameValue(v *version, str *string, bin []byte) bool {
	if (v.String == nil) != (str == nil) {
		return false
	}
	if str != nil && *v.String != *str {
		return false
	}
	return bytes.Equal(v.Binary, bin)
}

func checkToken(token string) error {
	if n := len(token); n < 32 || n > 64 {
		return invalidParameter("ClientRequestToken must be 32 to 64 characters long.")
	}
	return nil
}

func checkValue(str *string, bin []byte) error {
	if str != nil && bin != nil {
		return invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if (str != nil && len(*str) > 65536) || len(bin) > 65536 {
		return invalidParameter("The secret value is larger than 65536 bytes.")
	}
	return nil
}

// arnSuffix is the 6 random characters AWS appends to a secret's name.
func arnSuffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

type nameOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionID string `json:"VersionId,omitempty"`
}

func (s *Server) createSecret(body []byte) (any, bool, error) {
	var in struct {
		Name               string
		ClientRequestToken string
		Description        string
		KMSKeyID           string `json:"KmsKeyId"`
		SecretString       *string
		SecretBinary       []byte
		Tags               []Tag
	}
	if err := decode(body, &in); err != nil {
		return nil, false, err
	}
	if !namePattern.MatchString(in.Name) {
		return nil, false, invalidParameter("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	if err := checkValue(in.SecretString, in.SecretBinary); err != nil {
		return nil, false, err
	}
	hasValue := in.SecretString != nil || in.SecretBinary != nil
	if in.ClientRequestToken == "" {
		in.ClientRequestToken = uuid.NewString()
	}
	if err := checkToken(in.ClientRequestToken); err != nil {
		return nil, false, err
	}
	if sec, ok := s.state.Secrets[in.Name]; ok {
		if sec.Deleted != nil {
			return nil, false, invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		// The SDK retries with the same token: the same request again is
		// answered as the first time.
		if v, ok := sec.Versions[in.ClientRequestToken]; ok && hasValue && sameValue(v, in.SecretString, in.SecretBinary) {
			return nameOutput{ARN: sec.ARN, Name: sec.Name, VersionID: in.ClientRequestToken}, false, nil
		}
		return nil, false, resourceExists("The operation failed because the secret %s already exists.", in.Name)
	}
	now := s.now()
	sec := &secret{
		ARN:         fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", Region, Account, in.Name, arnSuffix()),
		Name:        in.Name,
		Description: in.Description,
		KMSKeyID:    in.KMSKeyID,
		Tags:        in.Tags,
		Created:     now,
		Changed:     now,
		Versions:    map[string]*version{},
	}
	out := nameOutput{ARN: sec.ARN, Name: sec.Name}
	if hasValue {
		sec.Versions[in.ClientRequestToken] = &version{String: in.SecretString, Binary: in.SecretBinary, Stages: []string{StageCurrent}, Created: now}
		out.VersionID = in.ClientRequestToken
	}
	s.state.Secrets[in.Name] = sec
	return out, true, nil
}

type valueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages"`
	CreatedDate   epoch    `json:"CreatedDate"`
}

func (s *Server) getSecretValue(body []byte) (any, bool, error) {
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string
	}
	if err := decode(body, &in); err != nil {
		return nil, false, err
	}
	sec, err := s.findLive(in.SecretID)
	if err != nil {
		return nil, false, err
	}
	id := in.VersionID
	if id == "" {
		stage := in.VersionStage
		if stage == "" {
			stage = StageCurrent
		}
		if id = sec.holder(stage); id == "" {
			return nil, false, notFound("Secrets Manager can't find the specified secret value for staging label: %s", stage)
		}
	}
	v, ok := sec.Versions[id]
	if !ok {
		return nil, false, notFound("Secrets Manager can't find the specified secret value for VersionId: %s", id)
	}
	if in.VersionStage != "" && !slices.Contains(v.Stages, in.VersionStage) {
		return nil, false, notFound("Secrets Manager can't find the specified secret value for VersionId: %s and staging label: %s", id, in.VersionStage)
	}
	return valueOutput{
		ARN: sec.ARN, Name: sec.Name, VersionID: id,
		SecretString: v.String, SecretBinary: v.Binary,
		VersionStages: slices.Clone(v.Stages), CreatedDate: epoch(v.Created),
	}, false, nil
}

type putOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages"`
}

func (s *Server) putSecretValue(body []byte) (any, bool, error) {
	var in struct {
		SecretID           string `json:"SecretId"`
		ClientRequestToken string
		SecretString       *string
		SecretBinary       []byte
		VersionStages      []string
	}
	if err := decode(body, &in); err != nil {
		return nil, false, err
	}
	sec, err := s.findLive(in.SecretID)
	if err != nil {
		return nil, false, err
	}
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, false, invalidParameter("You must provide either SecretString or SecretBinary.")
	}
	if err := checkValue(in.SecretString, in.SecretBinary); err != nil {
		return nil, false, err
	}
	if in.ClientRequestToken == "" {
		in.ClientRequestToken = uuid.NewString()
	}
	if err := checkToken(in.ClientRequestToken); err != nil {
		return nil, false, err
	}
	stages := in.VersionStages
	if stages == nil {
		stages = []string{StageCurrent}
	}
	if len(stages) > 20 {
		return nil, false, invalidParameter("A version can have at most 20 staging labels.")
	}
	for _, st := range stages {
		if st == "" || len(st) > 256 {
			return nil, false, invalidParameter("Invalid staging label.")
		}
	}
	if v, ok := sec.Versions[in.ClientRequestToken]; ok {
		if !sameValue(v, in.SecretString, in.SecretBinary) {
			return nil, false, resourceExists("You can't modify an existing version, you can only create a new version.")
		}
		// The same request again: AWS ignores it, stages included.
		return putOutput{ARN: sec.ARN, Name: sec.Name, VersionID: in.ClientRequestToken, VersionStages: slices.Clone(v.Stages)}, false, nil
	}
	now := s.now()
	sec.Versions[in.ClientRequestToken] = &version{String: in.SecretString, Binary: in.SecretBinary, Created: now}
	for _, st := range stages {
		sec.attach(st, in.ClientRequestToken)
	}
	sec.Changed = now
	sec.prune()
	return putOutput{ARN: sec.ARN, Name: sec.Name, VersionID: in.ClientRequestToken, VersionStages: slices.Clone(sec.Versions[in.ClientRequestToken].Stages)}, true, nil
}

func (s *Server) updateSecretVersionStage(body []byte) (any, bool, error) {
	var in struct {
		SecretID            string `json:"SecretId"`
		VersionStage        string
		MoveToVersionID     string `json:"MoveToVersionId"`
		RemoveFromVersionID string `json:"RemoveFromVersionId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, false, err
	}
	sec, err := s.findLive(in.SecretID)
	if err != nil {
		return nil, false, err
	}
	if in.VersionStage == "" {
		return nil, false, invalidParameter("VersionStage is required.")
	}
	if in.MoveToVersionID == "" && in.RemoveFromVersionID == "" {
		return nil, false, invalidParameter("You must specify MoveToVersionId, RemoveFromVersionId, or both.")
	}
	for _, id := range []string{in.MoveToVersionID, in.RemoveFromVersionID} {
		if _, ok := sec.Versions[id]; id != "" && !ok {
			return nil, false, notFound("Secrets Manager can't find the specified secret version: %s", id)
		}
	}
	holder := sec.holder(in.VersionStage)
	if in.RemoveFromVersionID != "" && holder != in.RemoveFromVersionID {
		return nil, false, invalidParameter("The staging label %s is not attached to version %s.", in.VersionStage, in.RemoveFromVersionID)
	}
	if in.MoveToVersionID == "" {
		if in.VersionStage == StageCurrent {
			return nil, false, invalidParameter("You can't remove the staging label AWSCURRENT; move it to another version instead.")
		}
		sec.detach(in.VersionStage, in.RemoveFromVersionID)
	} else {
		if holder != "" && holder != in.MoveToVersionID && in.RemoveFromVersionID == "" {
			return nil, false, invalidParameter("The staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", in.VersionStage, holder)
		}
		sec.attach(in.VersionStage, in.MoveToVersionID)
	}
	sec.Changed = s.now()
	return nameOutput{ARN: sec.ARN, Name: sec.Name}, true, nil
}

type describeOutput struct {
	ARN                string              `json:"ARN"`
	Name               string              `json:"Name"`
	Description        string              `json:"Description,omitempty"`
	KMSKeyID           string              `json:"KmsKeyId,omitempty"`
	Tags               []Tag               `json:"Tags,omitempty"`
	CreatedDate        epoch               `json:"CreatedDate"`
	LastChangedDate    epoch               `json:"LastChangedDate"`
	DeletedDate        *epoch              `json:"DeletedDate,omitempty"`
	VersionIDsToStages map[string][]string `json:"VersionIdsToStages"`
}

func (s *Server) describeSecret(body []byte) (any, bool, error) {
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, false, err
	}
	sec, err := s.find(in.SecretID)
	if err != nil {
		return nil, false, err
	}
	return describeOutput{
		ARN: sec.ARN, Name: sec.Name, Description: sec.Description, KMSKeyID: sec.KMSKeyID,
		Tags: sec.Tags, CreatedDate: epoch(sec.Created), LastChangedDate: epoch(sec.Changed),
		DeletedDate: ptrEpoch(sec.Deleted), VersionIDsToStages: sec.stagesByVersion(),
	}, false, nil
}

type deleteOutput struct {
	ARN          string `json:"ARN"`
	Name         string `json:"Name"`
	DeletionDate epoch  `json:"DeletionDate"`
}

func (s *Server) deleteSecret(body []byte) (any, bool, error) {
	var in struct {
		SecretID                   string `json:"SecretId"`
		RecoveryWindowInDays       *int64
		ForceDeleteWithoutRecovery bool
	}
	if err := decode(body, &in); err != nil {
		return nil, false, err
	}
	sec, err := s.find(in.SecretID)
	if err != nil {
		return nil, false, err
	}
	if in.ForceDeleteWithoutRecovery && in.RecoveryWindowInDays != nil {
		return nil, false, invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	now := s.now()
	if in.ForceDeleteWithoutRecovery {
		delete(s.state.Secrets, sec.Name)
		return deleteOutput{ARN: sec.ARN, Name: sec.Name, DeletionDate: epoch(now)}, true, nil
	}
	if sec.Deleted != nil {
		return nil, false, errMarkedForDeletion
	}
	days := int64(30)
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
	}
	if days < 7 || days > 30 {
		return nil, false, invalidParameter("The recovery window must be between 7 and 30 days.")
	}
	when := now.Add(time.Duration(days) * 24 * time.Hour)
	sec.Deleted, sec.DeletionDate = &now, &when
	return deleteOutput{ARN: sec.ARN, Name: sec.Name, DeletionDate: epoch(when)}, true, nil
}
