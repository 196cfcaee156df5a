package connectsa

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// Paths of the partner's endpoints, relative to an environment's base URL.
const (
	pathConsult  = "/mercurio/ws_consulta/"
	pathInclude  = "/mercurio/ws_pefin/inclusao/"
	pathRemove   = "/mercurio/ws_pefin/baixa/"
	pathStatus   = "/mercurio/ws_pefin/situacao/"
	pathCodes    = "/mercurio/ws_pefin/codigos/"
	pathPassword = "/mercurio/ws_senha/"
	pathProducts = "/mercurio/ws_produtos/"
	pathAccess   = "/mercurio/ws_acesso/"
)

// maxStatusReferences is how many references one status call carries.
const maxStatusReferences = 100

// Values of status.codigoResposta.
const (
	codeOK             = 0
	codeBadCredentials = 1
	codeRejected       = 2
	codeNotFound       = 3
	codeBureauError    = 9
)

const (
	wireDate = "02/01/2006"
	wireTime = "02/01/2006 15:04:05"
)

// brasilia is the partner's clock: UTC-3, without daylight saving since 2019.
var brasilia = time.FixedZone("BRT", -3*60*60)

// answer is any of the partner's answers: each has a status.
type answer interface{ statusOf() *wireStatus }

type wireStatus struct {
	Code        *flexInt `json:"codigoResposta"`
	Description string   `json:"descricaoCodigoResposta"`
	Message     string   `json:"mensagem"`
	Protocol    flexText `json:"protocolo"`
}

type statusAnswer struct {
	Status *wireStatus `json:"status"`
}

func (a *statusAnswer) statusOf() *wireStatus { return a.Status }

type consultAnswer struct {
	Status *wireStatus    `json:"status"`
	Input  consultInput   `json:"entrada"`
	Result *consultResult `json:"resultado"`
}

func (a *consultAnswer) statusOf() *wireStatus { return a.Status }

type consultInput struct {
	Name     string `json:"nomeConsultado"`
	Document string `json:"documentoConsultado"`
}

type consultResult struct {
	Identity     wireIdentity                 `json:"identificacao"`
	Score        *wireScore                   `json:"score"`
	Summary      *wireSummary                 `json:"quadroResumoConsta"`
	Pendencies   *wireSection[wirePendency]   `json:"pendenciasFinanceiras"`
	Protests     *wireSection[wireProtest]    `json:"protestos"`
	BadCheques   *wireSection[wireBadCheque]  `json:"chequesSemFundo"`
	Lawsuits     *wireSection[wireLawsuit]    `json:"acoesJudiciais"`
	Bankruptcies *wireSection[wireBankruptcy] `json:"falencias"`
	Previous     *wirePrevious                `json:"consultasAnteriores"`
}

type wireIdentity struct {
	Name           string `json:"nome"`
	BirthDate      string `json:"dataNascimento"`
	FoundationDate string `json:"dataFundacao"`
	DocumentStatus string `json:"situacaoDocumento"`
	MotherName     string `json:"nomeMae"`
}

type wireScore struct {
	Points             *flexInt `json:"pontuacao"`
	Class              string   `json:"classe"`
	DefaultProbability string   `json:"probabilidadeInadimplencia"`
	Message            string   `json:"mensagem"`
}

type wireSummary struct {
	Occurrences *flexInt `json:"quantidadeTotalOcorrencias"`
	Total       string   `json:"valorTotal"`
}

type wireSection[E any] struct {
	Count   *flexInt `json:"quantidadeOcorrencias"`
	Total   string   `json:"valorTotal"`
	Oldest  string   `json:"dataMaisAntiga"`
	Newest  string   `json:"dataMaisRecente"`
	Entries []E      `json:"registros"`
}

type wirePendency struct {
	Kind     string `json:"tipo"`
	Date     string `json:"data"`
	Modality string `json:"modalidade"`
	Amount   string `json:"valor"`
	Contract string `json:"contrato"`
	Origin   string `json:"origem"`
}

type wireProtest struct {
	Date   string `json:"data"`
	Amount string `json:"valor"`
	Notary string `json:"cartorio"`
	City   string `json:"cidade"`
	UF     string `json:"uf"`
}

type wireBadCheque struct {
	Date     string   `json:"data"`
	Bank     flexText `json:"banco"`
	Agency   flexText `json:"agencia"`
	Quantity *flexInt `json:"quantidade"`
	Amount   string   `json:"valor"`
	City     string   `json:"cidade"`
	UF       string   `json:"uf"`
}

type wireLawsuit struct {
	Date   string `json:"data"`
	Nature string `json:"natureza"`
	Amount string `json:"valor"`
	Court  string `json:"vara"`
	City   string `json:"cidade"`
	UF     string `json:"uf"`
}

type wireBankruptcy struct {
	Date  string `json:"data"`
	Kind  string `json:"tipo"`
	Court string `json:"vara"`
	City  string `json:"cidade"`
	UF    string `json:"uf"`
}

type wirePrevious struct {
	Last15  *flexInt            `json:"ultimos15Dias"`
	Last30  *flexInt            `json:"ultimos30Dias"`
	Last60  *flexInt            `json:"ultimos60Dias"`
	Last90  *flexInt            `json:"ultimos90Dias"`
	Entries []wirePreviousEntry `json:"registros"`
}

type wirePreviousEntry struct {
	Date    string `json:"data"`
	Company string `json:"empresa"`
}

type recordAnswer struct {
	Status *wireStatus `json:"status"`
	Record *wireRecord `json:"registro"`
}

func (a *recordAnswer) statusOf() *wireStatus { return a.Status }

type recordsAnswer struct {
	Status  *wireStatus  `json:"status"`
	Records []wireRecord `json:"registros"`
}

func (a *recordsAnswer) statusOf() *wireStatus { return a.Status }

type wireRecord struct {
	Reference string   `json:"referencia"`
	Protocol  flexText `json:"protocolo"`
	Situation string   `json:"situacao"`
	Message   string   `json:"mensagem"`
	UpdatedAt string   `json:"dataAtualizacao"`
}

type codesAnswer struct {
	Status *wireStatus `json:"status"`
	Codes  []wireCode  `json:"codigos"`
}

func (a *codesAnswer) statusOf() *wireStatus { return a.Status }

type productsAnswer struct {
	Status   *wireStatus `json:"status"`
	Products []wireCode  `json:"produtos"`
}

func (a *productsAnswer) statusOf() *wireStatus { return a.Status }

type wireCode struct {
	Code        flexText `json:"codigo"`
	Description string   `json:"descricao"`
}

type accessAnswer struct {
	Status *wireStatus `json:"status"`
	Access *wireAccess `json:"acesso"`
}

func (a *accessAnswer) statusOf() *wireStatus { return a.Status }

type wireAccess struct {
	Consultation string `json:"consulta"`
	PEFIN        string `json:"pefin"`
}

// flexInt is an integer the partner may send as a JSON number or as text
// ("3"), as PHP-backed services do; anything else is an error.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return errors.New("not an integer: " + strconv.Quote(truncate(string(b), 32)))
	}
	*n = flexInt(v)
	return nil
}

// flexText is text the partner may send as a JSON string or a number (a
// protocol, a bank code); null is empty.
type flexText string

func (t *flexText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = flexText(s)
	case string(b) == "null":
		*t = ""
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return errors.New("not text nor a number")
		}
		*t = flexText(n.String())
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
