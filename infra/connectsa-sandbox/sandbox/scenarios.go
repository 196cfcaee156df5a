package sandbox

import (
	"fmt"
	"hash/fnv"
	"time"

	"creditanalysis/shared/credit"
)

// Scenario is a document whose answers the sandbox fixes, so that tests and
// people trying the product locally can reach every case on purpose. The
// README's table is this list.
type Scenario struct {
	// Document is formatted; every one is a valid CPF or CNPJ.
	Document string
	// Consultation is what a consultation of the document answers.
	Consultation string
	// Negativation is what an inclusion against the document as debtor does.
	Negativation string
}

type behaviour int

const (
	derived           behaviour = iota // report derived from the document's hash
	nothingRecorded                    // nada consta
	pendenciesOnly                     // PEFIN and REFIN
	protestsOnly                       // two protests
	severalKinds                       // pendencies, protests, bad cheques, lawsuit
	companyTroubled                    // CNPJ: pendency, protest, lawsuit, judicial recovery
	consultRejected                    // the bureau refuses the consultation
	answerTimeout                      // no answer until the client gives up
	answerServerError                  // 503
	answerMalformed                    // truncated JSON
	answerOversized                    // a body far beyond any sane limit
	statusRejected                     // inclusion pending, then rejected
	inclusionRefused                   // inclusion refused at once
	largeReport                        // a legitimate report of about 2 MB
)

// largeReportPendencies is how many pendencies the large report lists: a
// debtor with thousands of small debts, about 2 MB of legitimate answer,
// within the adapter's 4 MiB limit and far past a DynamoDB item's 400 KB.
const largeReportPendencies = 15000

// Scenarios lists the fixed documents. Any other valid document gets a report
// derived from its digits: the same document always the same report.
var Scenarios = []Scenario{
	{"100.000.001-08", "Nada consta; score 920 (classe A)", "Pendente, depois ativa"},
	{"100.000.002-80", "PEFIN R$ 1.234,56 + REFIN R$ 15.000,00 (total R$ 16.234,56)", "Pendente, depois ativa"},
	{"100.000.003-61", "Dois protestos: R$ 850,00 + R$ 2.100,35 (total R$ 2.950,35)", "Pendente, depois ativa"},
	{"100.000.004-42", "Várias restrições: 3 pendências (R$ 89,90 + R$ 1.234,56 + R$ 1.000.000,00), 1 protesto R$ 5.432,10, 2 cheques sem fundo, 1 ação judicial R$ 48.000,00; consultas anteriores 2/3/5/8", "Pendente, depois ativa"},
	{"100.000.005-23", "Recusada pelo bureau (documento CANCELADO): bureau_rejected", "Pendente, depois ativa"},
	{"100.000.006-04", "Sem resposta até o cliente desistir: bureau_unavailable (timeout)", "Registro criado, resposta perdida (timeout); repetir a inclusão devolve o registro"},
	{"100.000.007-95", "HTTP 503: bureau_unavailable", "HTTP 503, nada registrado"},
	{"100.000.008-76", "JSON truncado: bureau_malformed_answer", "Registro criado, resposta truncada; repetir a inclusão devolve o registro"},
	{"100.000.009-57", "Nada consta", "Pendente, depois REJEITADA (endereço não localizado)"},
	{"100.000.010-90", "Nada consta", "Recusada na inclusão: bureau_rejected"},
	{"100.000.011-71", "Resposta de 16 MiB: bureau_malformed_answer (corpo grande demais)", "Pendente, depois ativa"},
	{"100.000.012-52", "Relatório legítimo de cerca de 2 MB: 15.000 pendências (PEFIN), score 35", "Pendente, depois ativa"},
	{"10.000.001/0001-90", "Empresa, nada consta", "Pendente, depois ativa"},
	{"10.000.002/0001-34", "Empresa com PEFIN R$ 7.500,00, protesto R$ 12.000,00, ação judicial R$ 250.000,00 e recuperação judicial", "Pendente, depois ativa"},
	{"12.ABC.345/01DE-35", "Empresa com CNPJ alfanumérico, nada consta", "Pendente, depois ativa"},
}

var behaviours = map[string]behaviour{
	"10000000108":    nothingRecorded,
	"10000000280":    pendenciesOnly,
	"10000000361":    protestsOnly,
	"10000000442":    severalKinds,
	"10000000523":    consultRejected,
	"10000000604":    answerTimeout,
	"10000000795":    answerServerError,
	"10000000876":    answerMalformed,
	"10000000957":    statusRejected,
	"10000001090":    inclusionRefused,
	"10000001171":    answerOversized,
	"10000001252":    largeReport,
	"10000001000190": nothingRecorded,
	"10000002000134": companyTroubled,
	"12ABC34501DE35": nothingRecorded,
}

func behaviourOf(d credit.Document) behaviour { return behaviours[d.Number()] }

// Messages of the scenarios, fixed so that tests can compare them.
const (
	MessageConsultRejected  = "Documento consultado com situação CANCELADA na Receita Federal. Consulta não realizada."
	MessageStatusRejected   = "Endereço do devedor não localizado: carta comunicado devolvida."
	MessageInclusionRefused = "Devedor com impedimento judicial de inclusão."
)

// anchor is the day derived dates count back from: a fixed day, so that a
// document's report never changes.
var anchor = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)

func hashOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

var (
	motherNames = []string{"Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda", "Aline", "Sandra"}
	firstNames  = []string{"Ana", "Bruno", "Carla", "Diego", "Eduarda", "Felipe", "Gabriela", "Henrique", "Isabela", "João", "Larissa", "Marcos", "Natália", "Otávio", "Patrícia", "Rafael"}
	lastNames   = []string{"Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida", "Nascimento", "Lima", "Araújo", "Fernandes"}
	companies   = []string{"Comércio", "Serviços", "Transportes", "Alimentos", "Construções", "Tecnologia", "Distribuidora", "Confecções"}
	origins     = []string{"Banco Exemplo S.A.", "Loja Exemplo Ltda", "Financeira Modelo S.A.", "Telecom Ficção Ltda", "Energia Demonstração S.A."}
	modalities  = []string{"Financiamento", "Cartão de crédito", "Empréstimo pessoal", "Prestação de serviços", "Crediário"}
	places      = [][2]string{{"São Paulo", "SP"}, {"Campinas", "SP"}, {"Belo Horizonte", "MG"}, {"Curitiba", "PR"}, {"Porto Alegre", "RS"}, {"Salvador", "BA"}, {"Recife", "PE"}, {"Goiânia", "GO"}}
	consultants = []string{"Loja Exemplo Ltda", "Banco Exemplo S.A.", "Provedor Fictício Ltda", "Financeira Modelo S.A."}
)

func pick[T any](list []T, h uint64) T { return list[h%uint64(len(list))] }

// reportData is the credit data of a document, before it takes the wire
// shape of one product.
type reportData struct {
	name, motherName string
	born             time.Time // birth or foundation
	status           string
	scorePoints      int
	pendencies       []pendencyData
	protests         []protestData
	badCheques       []badChequeData
	lawsuits         []lawsuitData
	bankruptcies     []bankruptcyData
	previous         [4]int
}

type pendencyData struct {
	kind, modality, contract, origin string
	date                             time.Time
	amount                           credit.Cents
}

type protestData struct {
	date     time.Time
	amount   credit.Cents
	notary   string
	city, uf string
}

type badChequeData struct {
	date         time.Time
	bank, agency string
	quantity     int
	amount       credit.Cents
	city, uf     string
}

type lawsuitData struct {
	date          time.Time
	nature, court string
	amount        credit.Cents
	city, uf      string
}

type bankruptcyData struct {
	date        time.Time
	kind, court string
	city, uf    string
}

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }

// dataOf returns the credit data of doc, fixed for the scenarios, derived
// from its digits otherwise.
func dataOf(doc credit.Document) reportData {
	h := hashOf(doc.Number())
	r := derivedIdentity(doc, h)
	switch behaviourOf(doc) {
	case nothingRecorded, statusRejected, inclusionRefused, answerOversized:
		r.scorePoints = 920
		if behaviourOf(doc) == nothingRecorded && doc.Kind() == credit.CPF {
			r.name = "Cliente Teste Nada Consta"
		}
		return r
	case pendenciesOnly:
		r.name = "Cliente Teste Pendências"
		r.pendencies = []pendencyData{
			{kind: "PEFIN", date: d(2024, 3, 10), modality: "Financiamento", amount: 123456, contract: "CT-0001", origin: "Loja Exemplo Ltda"},
			{kind: "REFIN", date: d(2023, 11, 5), modality: "Empréstimo pessoal", amount: 1500000, contract: "EMP-778", origin: "Banco Exemplo S.A."},
		}
		r.scorePoints = 410
		return r
	case protestsOnly:
		r.name = "Cliente Teste Protestos"
		r.protests = []protestData{
			{date: d(2024, 8, 20), amount: 85000, notary: "1º Tabelião de Protesto", city: "São Paulo", uf: "SP"},
			{date: d(2025, 2, 3), amount: 210035, notary: "2º Tabelião de Protesto", city: "Campinas", uf: "SP"},
		}
		r.scorePoints = 480
		return r
	case severalKinds:
		r.name = "Cliente Teste Várias Restrições"
		r.pendencies = []pendencyData{
			{kind: "PEFIN", date: d(2025, 1, 15), modality: "Prestação de serviços", amount: 8990, contract: "INT-2025-01", origin: "Telecom Ficção Ltda"},
			{kind: "PEFIN", date: d(2024, 3, 10), modality: "Financiamento", amount: 123456, contract: "CT-0001", origin: "Loja Exemplo Ltda"},
			{kind: "REFIN", date: d(2021, 7, 1), modality: "Financiamento imobiliário", amount: 100000000, contract: "IMOB-9", origin: "Banco Exemplo S.A."},
		}
		r.protests = []protestData{{date: d(2023, 9, 12), amount: 543210, notary: "3º Tabelião de Protesto", city: "Belo Horizonte", uf: "MG"}}
		r.badCheques = []badChequeData{{date: d(2022, 5, 30), bank: "001", agency: "1234", quantity: 2, amount: 45000, city: "Curitiba", uf: "PR"}}
		r.lawsuits = []lawsuitData{{date: d(2022, 10, 4), nature: "Execução de título", amount: 4800000, court: "2ª Vara Cível", city: "Porto Alegre", uf: "RS"}}
		r.previous = [4]int{2, 3, 5, 8}
		r.scorePoints = 120
		return r
	case largeReport:
		r.name = "Cliente Teste Relatório Grande"
		r.pendencies = make([]pendencyData, largeReportPendencies)
		for i := range r.pendencies {
			r.pendencies[i] = pendencyData{
				kind: "PEFIN", date: anchor.AddDate(0, 0, -(30 + i%1800)), modality: pick(modalities, uint64(i)),
				amount: credit.Cents(1990 + (i*7919)%250000), contract: fmt.Sprintf("CT-%06d", i+1), origin: pick(origins, uint64(i)>>3),
			}
		}
		r.previous = [4]int{3, 6, 9, 12}
		r.scorePoints = 35
		return r
	case companyTroubled:
		r.name = "Empresa Teste Restrições Ltda"
		r.pendencies = []pendencyData{{kind: "PEFIN", date: d(2024, 12, 1), modality: "Duplicata", amount: 750000, contract: "DUP-554", origin: "Distribuidora Modelo S.A."}}
		r.protests = []protestData{{date: d(2024, 6, 18), amount: 1200000, notary: "1º Tabelião de Protesto", city: "Salvador", uf: "BA"}}
		r.lawsuits = []lawsuitData{{date: d(2023, 4, 11), nature: "Ação de cobrança", amount: 25000000, court: "5ª Vara Cível", city: "Salvador", uf: "BA"}}
		r.bankruptcies = []bankruptcyData{{date: d(2024, 2, 27), kind: "Recuperação judicial", court: "1ª Vara Empresarial", city: "Salvador", uf: "BA"}}
		r.previous = [4]int{1, 1, 4, 6}
		r.scorePoints = 90
		return r
	}
	// Derived: a quarter of the documents have nothing, the rest one to four
	// restrictions, amounts and dates from the hash.
	kinds := int(h>>8) % 4
	r.scorePoints = 300 + int(h>>16)%651 - 130*kinds
	if r.scorePoints < 0 {
		r.scorePoints = 0
	}
	place := pick(places, h>>24)
	if kinds >= 1 {
		r.pendencies = append(r.pendencies, pendencyData{
			kind: "PEFIN", date: anchor.AddDate(0, 0, -int(30+(h>>28)%1500)), modality: pick(modalities, h>>32),
			amount: credit.Cents(1000 + (h>>36)%500000), contract: "CT-" + doc.Number()[3:9], origin: pick(origins, h>>40),
		})
	}
	if kinds >= 2 {
		r.protests = append(r.protests, protestData{
			date: anchor.AddDate(0, 0, -int(60+(h>>44)%1200)), amount: credit.Cents(5000 + (h>>20)%900000),
			notary: "1º Tabelião de Protesto", city: place[0], uf: place[1],
		})
	}
	if kinds >= 3 {
		r.pendencies = append(r.pendencies, pendencyData{
			kind: "REFIN", date: anchor.AddDate(0, 0, -int(90+(h>>48)%1000)), modality: "Empréstimo pessoal",
			amount: credit.Cents(10000 + (h>>12)%2000000), contract: "EMP-" + doc.Number()[2:7], origin: "Banco Exemplo S.A.",
		})
		r.lawsuits = append(r.lawsuits, lawsuitData{
			date: anchor.AddDate(0, 0, -int(120+(h>>52)%900)), nature: "Ação de cobrança",
			amount: credit.Cents(100000 + (h>>4)%5000000), court: "1ª Vara Cível", city: place[0], uf: place[1],
		})
	}
	r.previous = [4]int{int(h>>56) % 2, 0, 0, 0}
	r.previous[1] = r.previous[0] + int(h>>57)%2
	r.previous[2] = r.previous[1] + int(h>>58)%3
	r.previous[3] = r.previous[2] + int(h>>60)%3
	return r
}

func derivedIdentity(doc credit.Document, h uint64) reportData {
	if doc.Kind() == credit.CNPJ {
		return reportData{
			name:   pick(companies, h) + " " + pick(lastNames, h>>4) + " Ltda",
			born:   anchor.AddDate(-int(1+(h>>8)%40), 0, -int((h>>12)%365)),
			status: "ATIVA",
		}
	}
	return reportData{
		name:       pick(firstNames, h) + " " + pick(lastNames, h>>4) + " " + pick(lastNames, h>>6),
		motherName: pick(motherNames, h>>10) + " " + pick(lastNames, h>>14),
		born:       anchor.AddDate(-int(19+(h>>8)%60), 0, -int((h>>12)%365)),
		status:     "REGULAR",
	}
}
