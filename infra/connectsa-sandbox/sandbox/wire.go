package sandbox

// The wire format, written out here independently of the adapter's own
// definitions, so that a drift between them fails the contract suite instead
// of passing silently on both sides.

// wireDate and wireTime are the layouts of the answers: Brazilian day order,
// times in Brasília time (UTC-3, no daylight saving since 2019).
const (
	wireDate = "02/01/2006"
	wireTime = "02/01/2006 15:04:05"
)

// Response codes of status.codigoResposta.
const (
	codeOK             = 0
	codeBadCredentials = 1
	codeRejected       = 2
	codeNotFound       = 3
	codeInternal       = 9
)

type status struct {
	Code        int    `json:"codigoResposta"`
	Description string `json:"descricaoCodigoResposta"`
	Message     string `json:"mensagem"`
	Protocol    string `json:"protocolo,omitempty"`
}

var codeDescriptions = map[int]string{
	codeOK:             "SUCESSO",
	codeBadCredentials: "ACESSO_NEGADO",
	codeRejected:       "REQUISICAO_RECUSADA",
	codeNotFound:       "REGISTRO_NAO_ENCONTRADO",
	codeInternal:       "ERRO_INTERNO",
}

func newStatus(code int, message, protocol string) status {
	return status{Code: code, Description: codeDescriptions[code], Message: message, Protocol: protocol}
}

type statusOnly struct {
	Status status `json:"status"`
}

type consultAnswer struct {
	Status status         `json:"status"`
	Input  consultInput   `json:"entrada"`
	Result *consultResult `json:"resultado,omitempty"`
}

type consultInput struct {
	Name     string `json:"nomeConsultado"`
	Document string `json:"documentoConsultado"`
	Product  string `json:"consulta"`
	Static   string `json:"estatica"`
}

type consultResult struct {
	Identity              identity            `json:"identificacao"`
	Score                 *score              `json:"score,omitempty"`
	Summary               summary             `json:"quadroResumoConsta"`
	Pendencies            section[pendency]   `json:"pendenciasFinanceiras"`
	Protests              section[protest]    `json:"protestos"`
	BadCheques            section[badCheque]  `json:"chequesSemFundo"`
	Lawsuits              section[lawsuit]    `json:"acoesJudiciais"`
	Bankruptcies          section[bankruptcy] `json:"falencias"`
	PreviousConsultations *previous           `json:"consultasAnteriores,omitempty"`
}

type identity struct {
	Name           string `json:"nome"`
	BirthDate      string `json:"dataNascimento,omitempty"`
	FoundationDate string `json:"dataFundacao,omitempty"`
	DocumentStatus string `json:"situacaoDocumento"`
	MotherName     string `json:"nomeMae,omitempty"`
}

type score struct {
	Points             int    `json:"pontuacao"`
	Class              string `json:"classe"`
	DefaultProbability string `json:"probabilidadeInadimplencia"`
	Message            string `json:"mensagem"`
}

type summary struct {
	Occurrences int    `json:"quantidadeTotalOcorrencias"`
	Total       string `json:"valorTotal"`
}

type section[E any] struct {
	Count   int    `json:"quantidadeOcorrencias"`
	Total   string `json:"valorTotal"`
	Oldest  string `json:"dataMaisAntiga,omitempty"`
	Newest  string `json:"dataMaisRecente,omitempty"`
	Entries []E    `json:"registros"`
}

type pendency struct {
	Kind     string `json:"tipo"`
	Date     string `json:"data"`
	Modality string `json:"modalidade"`
	Amount   string `json:"valor"`
	Contract string `json:"contrato"`
	Origin   string `json:"origem"`
}

type protest struct {
	Date   string `json:"data"`
	Amount string `json:"valor"`
	Notary string `json:"cartorio"`
	City   string `json:"cidade"`
	UF     string `json:"uf"`
}

type badCheque struct {
	Date     string `json:"data"`
	Bank     string `json:"banco"`
	Agency   string `json:"agencia"`
	Quantity int    `json:"quantidade"`
	Amount   string `json:"valor"`
	City     string `json:"cidade"`
	UF       string `json:"uf"`
}

type lawsuit struct {
	Date   string `json:"data"`
	Nature string `json:"natureza"`
	Amount string `json:"valor"`
	Court  string `json:"vara"`
	City   string `json:"cidade"`
	UF     string `json:"uf"`
}

type bankruptcy struct {
	Date  string `json:"data"`
	Kind  string `json:"tipo"`
	Court string `json:"vara"`
	City  string `json:"cidade"`
	UF    string `json:"uf"`
}

type previous struct {
	Last15  int             `json:"ultimos15Dias"`
	Last30  int             `json:"ultimos30Dias"`
	Last60  int             `json:"ultimos60Dias"`
	Last90  int             `json:"ultimos90Dias"`
	Entries []previousEntry `json:"registros"`
}

type previousEntry struct {
	Date    string `json:"data"`
	Company string `json:"empresa"`
}

type recordAnswer struct {
	Status status     `json:"status"`
	Record wireRecord `json:"registro"`
}

type recordsAnswer struct {
	Status  status       `json:"status"`
	Records []wireRecord `json:"registros"`
}

type wireRecord struct {
	Reference string `json:"referencia"`
	Protocol  string `json:"protocolo"`
	Situation string `json:"situacao"`
	Message   string `json:"mensagem"`
	UpdatedAt string `json:"dataAtualizacao"`
}

// Record situations on the wire.
const (
	situationPending  = "PENDENTE"
	situationActive   = "ATIVO"
	situationRejected = "REJEITADO"
	situationRemoved  = "BAIXADO"
)

type codesAnswer struct {
	Status status     `json:"status"`
	Codes  []wireCode `json:"codigos"`
}

type wireCode struct {
	Code        string `json:"codigo"`
	Description string `json:"descricao"`
}

type productsAnswer struct {
	Status   status     `json:"status"`
	Products []wireCode `json:"produtos"`
}

type accessAnswer struct {
	Status status `json:"status"`
	Access access `json:"acesso"`
}

type access struct {
	Consultation string `json:"consulta"`
	PEFIN        string `json:"pefin"`
}
