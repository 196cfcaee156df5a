// Package pdf renders a consultation's credit report as a printable PDF in
// Portuguese, laid out like a bureau report: header with branch, environment
// (a HOMOLOGAÇÃO mark outside production), plan, protocol and São Paulo
// time; the consulted person's identity with the document masked; the score
// as a gauge with its class; one table per section with totals, "Nada
// consta" where a section is empty.
//
// It uses go-pdf/fpdf's core fonts (nothing embedded, so the file stays
// small) with the cp1252 translator for accents.
package pdf

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"creditanalysis/shared/credit"

	"github.com/go-pdf/fpdf"
)

// Renderer renders report PDFs.
type Renderer struct {
	// Uncompressed leaves the content streams readable, for tests that read
	// the text back.
	Uncompressed bool
}

var _ credit.ReportRenderer = Renderer{}

// Page geometry (A4, millimetres).
const (
	pageW, pageH = 210.0, 297.0
	margin       = 12.0
	contentW     = pageW - 2*margin
	rowH         = 5.6
	bottomLimit  = pageH - 18
)

type rgb struct{ r, g, b int }

var (
	colorBrand    = rgb{16, 52, 97}
	colorBand     = rgb{232, 238, 246}
	colorRule     = rgb{190, 199, 212}
	colorText     = rgb{33, 37, 41}
	colorMuted    = rgb{100, 108, 118}
	colorAlert    = rgb{176, 32, 32}
	colorOK       = rgb{25, 120, 60}
	colorZebra    = rgb{246, 248, 251}
	scoreSegments = []struct {
		upTo int
		c    rgb
	}{{200, rgb{200, 40, 40}}, {400, rgb{235, 120, 40}}, {600, rgb{240, 190, 50}}, {800, rgb{140, 190, 70}}, {1000, rgb{40, 150, 80}}}
)

// report is one rendering.
type report struct {
	f   *fpdf.Fpdf
	tr  func(string) string
	doc credit.ReportDocument
	c   credit.Consultation
	r   credit.Report
}

// Render lays out doc. It fails only for a consultation without a report.
func (rn Renderer) Render(doc credit.ReportDocument) ([]byte, error) {
	if doc.Consultation.Report == nil {
		return nil, fmt.Errorf("pdf: consultation %s has no report", doc.Consultation.ID)
	}
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCompression(!rn.Uncompressed)
	// Fixed metadata dates keep the file a function of the document alone.
	f.SetCreationDate(doc.GeneratedAt)
	f.SetModificationDate(doc.GeneratedAt)
	f.SetCatalogSort(true)
	rep := &report{f: f, tr: f.UnicodeTranslatorFromDescriptor(""), doc: doc, c: doc.Consultation, r: *doc.Consultation.Report}
	f.SetTitle(rep.tr("Relatório de consulta de crédito"), false)
	f.SetAuthor(rep.tr("Análise de crédito"), false)
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, pageH-bottomLimit)
	f.AliasNbPages("{nb}")
	f.SetHeaderFunc(rep.header)
	f.SetFooterFunc(rep.footer)
	f.AddPage()

	rep.consultationBlock()
	rep.identityBlock()
	rep.scoreBlock()
	rep.summaryBlock()
	rep.pendencies()
	rep.protests()
	rep.badCheques()
	rep.lawsuits()
	rep.bankruptcies()
	rep.previousConsultations()
	rep.closing()

	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("pdf: render consultation %s: %w", doc.Consultation.ID, err)
	}
	return buf.Bytes(), nil
}

func (p *report) color(c rgb) { p.f.SetTextColor(c.r, c.g, c.b) }
func (p *report) fill(c rgb)  { p.f.SetFillColor(c.r, c.g, c.b) }
func (p *report) draw(c rgb)  { p.f.SetDrawColor(c.r, c.g, c.b) }
func (p *report) font(style string, size float64) {
	p.f.SetFont("Helvetica", style, size)
}

// text writes a cell, translated to the PDF's encoding and cut to fit.
func (p *report) text(w, h float64, s, border string, ln int, align string, fill bool) {
	p.f.CellFormat(w, h, p.fit(p.tr(s), w), border, ln, align, fill, 0, "")
}

// fit cuts an encoded string so that it fits w (with the cell's padding).
func (p *report) fit(s string, w float64) string {
	if w <= 0 || p.f.GetStringWidth(s) <= w-2 {
		return s
	}
	ell := p.tr("…")
	for len(s) > 0 && p.f.GetStringWidth(s+ell) > w-2 {
		s = s[:len(s)-1]
	}
	return s + ell
}

func (p *report) homologation() bool { return p.c.Environment != credit.EnvironmentProduction }

func (p *report) header() {
	f := p.f
	if p.homologation() {
		p.watermark()
	}
	p.fill(colorBrand)
	f.Rect(0, 0, pageW, 24, "F")
	f.SetXY(margin, 5)
	p.color(rgb{255, 255, 255})
	p.font("B", 15)
	p.text(120, 7, "RELATÓRIO DE CONSULTA DE CRÉDITO", "", 2, "L", false)
	p.font("", 8.5)
	p.text(120, 4.5, "Connect SA · Serasa Experian / SPC Brasil · Plano "+p.c.Plan.Name(), "", 2, "L", false)
	p.text(120, 4.5, "Filial ID "+p.c.BranchID+" · Ambiente "+p.c.Environment.Name(), "", 0, "L", false)
	f.SetXY(pageW-margin-70, 5)
	p.font("B", 8.5)
	p.text(70, 4.5, "Protocolo "+orDash(p.r.Protocol), "", 2, "R", false)
	p.font("", 8.5)
	p.text(70, 4.5, "Consulta em "+dateTime(p.c.CreatedAt), "", 2, "R", false)
	p.text(70, 4.5, "Horário de Brasília (America/Sao_Paulo)", "", 2, "R", false)
	f.SetY(27)
	if p.homologation() {
		p.fill(rgb{253, 236, 236})
		p.draw(colorAlert)
		p.color(colorAlert)
		p.font("B", 9)
		f.SetX(margin)
		p.text(contentW, 7, "HOMOLOGAÇÃO: consulta de teste do parceiro, sem valor para decisão de crédito", "1", 1, "C", true)
		f.Ln(2)
	}
	p.color(colorText)
}

// watermark stamps HOMOLOGAÇÃO across the page, light enough to read
// through.
func (p *report) watermark() {
	f := p.f
	f.TransformBegin()
	f.TransformRotate(35, pageW/2, pageH/2)
	f.SetAlpha(0.10, "Normal")
	p.color(colorAlert)
	p.font("B", 64)
	s := p.tr("HOMOLOGAÇÃO")
	f.Text(pageW/2-f.GetStringWidth(s)/2, pageH/2+8, s)
	f.SetAlpha(1, "Normal")
	f.TransformEnd()
}

func (p *report) footer() {
	f := p.f
	f.SetY(pageH - 13)
	p.draw(colorRule)
	f.Line(margin, f.GetY(), pageW-margin, f.GetY())
	f.Ln(1.5)
	p.color(colorMuted)
	p.font("", 7)
	p.text(contentW*0.75, 4, "Consulta "+p.c.ID+" · PDF gerado em "+dateTime(p.doc.GeneratedAt)+" · Documento confidencial: uso restrito à análise de crédito (LGPD).", "", 0, "L", false)
	p.text(contentW*0.25, 4, "Página "+strconv.Itoa(f.PageNo())+" de {nb}", "", 0, "R", false)
}

// sectionTitle opens a block, moving to a new page when not even the title
// and two rows fit.
func (p *report) sectionTitle(title string) {
	p.ensure(rowH*4 + 8)
	f := p.f
	f.Ln(3)
	p.fill(colorBand)
	p.color(colorBrand)
	p.font("B", 10)
	f.SetX(margin)
	p.text(contentW, 7, title, "", 1, "L", true)
	p.fill(colorBrand)
	f.Rect(margin, f.GetY()-7, 1.2, 7, "F")
	f.Ln(1.5)
	p.color(colorText)
}

func (p *report) ensure(h float64) {
	if p.f.GetY()+h > bottomLimit {
		p.f.AddPage()
	}
}

// fields writes label/value pairs in two columns.
func (p *report) fields(pairs [][2]string) {
	f := p.f
	colW := contentW / 2
	for i, kv := range pairs {
		if i%2 == 0 {
			f.SetX(margin)
		}
		p.font("", 7.5)
		p.color(colorMuted)
		p.text(34, rowH, kv[0], "", 0, "L", false)
		p.font("B", 8.5)
		p.color(colorText)
		ln := 0
		if i%2 == 1 || i == len(pairs)-1 {
			ln = 1
		}
		p.text(colW-34, rowH, kv[1], "", ln, "L", false)
	}
}

func (p *report) consultationBlock() {
	p.sectionTitle("Dados da consulta")
	requester := p.c.RequestedBy.Name
	if requester == "" {
		requester = p.c.RequestedBy.Subject
	}
	p.fields([][2]string{
		{"Filial", "ID " + p.c.BranchID},
		{"Ambiente", p.c.Environment.Name()},
		{"Plano", p.c.Plan.Name()},
		{"Protocolo", orDash(p.r.Protocol)},
		{"Data e hora", dateTime(p.c.CreatedAt)},
		{"Solicitada por", orDash(requester)},
		{"Integração", p.c.IntegrationID},
		{"Consulta", p.c.ID},
	})
}

func (p *report) identityBlock() {
	p.sectionTitle("Identificação do consultado")
	id := p.r.Identity
	kind, born := "CPF", "Data de nascimento"
	bornAt := id.BirthDate
	if p.c.Document.Kind() == credit.CNPJ {
		kind, born, bornAt = "CNPJ", "Data de fundação", id.FoundationDate
	}
	pairs := [][2]string{
		{"Nome / razão social", orDash(id.Name)},
		{kind, p.c.Document.Masked()},
		{born, day(bornAt)},
		{"Situação do documento", orDash(id.DocumentStatus)},
	}
	if id.MotherName != "" {
		pairs = append(pairs, [2]string{"Nome da mãe", id.MotherName})
	}
	if p.c.UF != "" {
		pairs = append(pairs, [2]string{"UF informada", p.c.UF})
	}
	p.fields(pairs)
}

func (p *report) scoreBlock() {
	p.sectionTitle("Score de crédito")
	f := p.f
	s := p.r.Score
	if s == nil {
		p.font("", 9)
		p.color(colorMuted)
		f.SetX(margin)
		p.text(contentW, rowH+1, "O plano "+p.c.Plan.Name()+" não inclui score. Para o score, consulte com o plano Relatório + Score.", "", 1, "L", false)
		p.color(colorText)
		return
	}
	p.ensure(30)
	top := f.GetY()
	// The number and its class on the left.
	f.SetXY(margin, top+1)
	p.font("B", 26)
	p.color(colorBrand)
	p.text(36, 12, strconv.Itoa(s.Value), "", 2, "C", false)
	p.font("", 7.5)
	p.color(colorMuted)
	p.text(36, 4, "de 0 a 1000", "", 0, "C", false)

	// The gauge: five risk bands and a marker at the value.
	gx, gy, gw, gh := margin+44, top+8, 100.0, 6.0
	prev := 0
	for _, seg := range scoreSegments {
		p.fill(seg.c)
		f.Rect(gx+gw*float64(prev)/credit.MaxScore, gy, gw*float64(seg.upTo-prev)/credit.MaxScore, gh, "F")
		prev = seg.upTo
	}
	v := min(max(s.Value, 0), credit.MaxScore)
	mx := gx + gw*float64(v)/credit.MaxScore
	p.fill(colorText)
	f.Polygon([]fpdf.PointType{{X: mx - 2, Y: gy - 3.2}, {X: mx + 2, Y: gy - 3.2}, {X: mx, Y: gy - 0.4}}, "F")
	p.draw(colorText)
	f.SetLineWidth(0.6)
	f.Line(mx, gy-0.4, mx, gy+gh+0.8)
	f.SetLineWidth(0.2)
	p.font("", 6.5)
	p.color(colorMuted)
	for _, tick := range []int{0, 200, 400, 600, 800, 1000} {
		x := gx + gw*float64(tick)/credit.MaxScore
		f.SetXY(x-6, gy+gh+0.5)
		p.text(12, 3.5, strconv.Itoa(tick), "", 0, "C", false)
	}
	f.SetXY(gx, gy-7.5)
	p.text(gw, 3.5, "maior risco", "", 0, "L", false)
	f.SetXY(gx, gy-7.5)
	p.text(gw, 3.5, "menor risco", "", 0, "R", false)

	// The class badge on the right.
	bx := gx + gw + 8
	p.fill(classColor(s.Value))
	f.RoundedRect(bx, top+2, 26, 14, 2, "1234", "F")
	f.SetXY(bx, top+3)
	p.color(rgb{255, 255, 255})
	p.font("", 7)
	p.text(26, 3.5, "CLASSE", "", 2, "C", false)
	p.font("B", 13)
	p.text(26, 7, orDash(s.Class), "", 0, "C", false)

	f.SetXY(margin, top+22)
	p.color(colorText)
	p.font("", 8.5)
	p.text(contentW, rowH, "Probabilidade de inadimplência: "+s.DefaultProbability.Percent(), "", 1, "L", false)
	if s.Message != "" {
		p.font("I", 8.5)
		f.SetX(margin)
		f.MultiCell(contentW, 4.5, p.tr(s.Message), "", "L", false)
	}
}

func classColor(v int) rgb {
	for _, seg := range scoreSegments {
		if v <= seg.upTo {
			return seg.c
		}
	}
	return scoreSegments[len(scoreSegments)-1].c
}

func (p *report) summaryBlock() {
	p.sectionTitle("Resumo das ocorrências")
	f := p.f
	if p.r.NothingRecorded() {
		p.ensure(14)
		p.fill(rgb{232, 245, 236})
		p.draw(colorOK)
		p.color(colorOK)
		p.font("B", 12)
		f.SetX(margin)
		p.text(contentW, 10, "NADA CONSTA", "1", 1, "C", true)
		p.font("", 8)
		f.SetX(margin)
		p.text(contentW, rowH, "Nenhuma pendência, protesto, cheque sem fundo, ação judicial ou falência registrada para o documento.", "", 1, "C", false)
		p.color(colorText)
		return
	}
	rows := [][]string{
		summaryRow("Pendências financeiras (PEFIN/REFIN)", p.r.Pendencies.Summary, true),
		summaryRow("Protestos", p.r.Protests.Summary, true),
		summaryRow("Cheques sem fundo", p.r.BadCheques.Summary, true),
		summaryRow("Ações judiciais", p.r.Lawsuits.Summary, true),
		summaryRow("Falências e recuperações judiciais", p.r.Bankruptcies.Summary, false),
	}
	var total credit.Cents
	for _, s := range []credit.Summary{p.r.Pendencies.Summary, p.r.Protests.Summary, p.r.BadCheques.Summary, p.r.Lawsuits.Summary} {
		total += s.Total
	}
	p.table([]column{{"Tipo", 68, "L"}, {"Qtde", 16, "C"}, {"Mais antiga", 26, "C"}, {"Mais recente", 26, "C"}, {"Valor total", 50, "R"}},
		rows, "", &totalRow{"Total de ocorrências: " + strconv.Itoa(p.r.Occurrences), total.BRL()})
}

func summaryRow(label string, s credit.Summary, money bool) []string {
	value := "-"
	if money {
		value = s.Total.BRL()
	}
	return []string{label, strconv.Itoa(s.Count), day(s.Oldest), day(s.Newest), value}
}

type column struct {
	title string
	w     float64
	align string
}

// table draws a header, zebra rows, the line on entries left unlisted and a
// bold total row, repeating the header after a page break.
func (p *report) table(cols []column, rows [][]string, more string, total *totalRow) {
	f := p.f
	head := func() {
		p.fill(colorBrand)
		p.color(rgb{255, 255, 255})
		p.font("B", 7.5)
		f.SetX(margin)
		for i, c := range cols {
			ln := 0
			if i == len(cols)-1 {
				ln = 1
			}
			p.text(c.w, rowH, c.title, "", ln, c.align, true)
		}
		p.color(colorText)
	}
	p.ensure(rowH * 3)
	head()
	p.draw(colorRule)
	for r, row := range rows {
		if f.GetY()+rowH > bottomLimit {
			f.AddPage()
			head()
		}
		p.fill(colorZebra)
		p.font("", 7.5)
		f.SetX(margin)
		for i, c := range cols {
			ln := 0
			if i == len(cols)-1 {
				ln = 1
			}
			p.text(c.w, rowH, row[i], "B", ln, c.align, r%2 == 1)
		}
	}
	if more != "" {
		p.ensure(rowH)
		p.font("I", 7.5)
		p.color(colorMuted)
		f.SetX(margin)
		p.text(contentW, rowH, more, "B", 1, "L", false)
		p.color(colorText)
	}
	if total != nil {
		p.ensure(rowH)
		p.fill(colorBand)
		p.font("B", 7.5)
		f.SetX(margin)
		last := cols[len(cols)-1]
		p.text(contentW-last.w, rowH, total.label, "", 0, "L", true)
		p.text(last.w, rowH, total.value, "", 1, last.align, true)
	}
}

// MaxListedEntries is how many entries of one section the PDF lists; the
// rest are counted (and summed) in one line. A report with thousands of
// pendencies thus stays a document of a few dozen pages and well under a
// megabyte; the full list is in the consultation's report.
const MaxListedEntries = 300

// listed lays out the first MaxListedEntries entries and, when there are
// more, the line that counts them (with their amount when the section has
// amounts).
func listed[E credit.Entry](entries []E, money bool, row func(E) []string) (rows [][]string, more string) {
	shown := entries[:min(len(entries), MaxListedEntries)]
	rows = make([][]string, len(shown))
	for i, e := range shown {
		rows[i] = row(e)
	}
	rest := entries[len(shown):]
	if len(rest) == 0 {
		return rows, ""
	}
	more = "… e mais " + strconv.Itoa(len(rest)) + " ocorrência(s) não listada(s) neste PDF"
	if money {
		var sum credit.Cents
		for _, e := range rest {
			sum += e.EntryAmount()
		}
		more += ", somando " + sum.BRL()
	}
	return rows, more
}

// totalRow closes a table: a label across every column but the last, and
// the last column's total.
type totalRow struct{ label, value string }

// nothing writes "Nada consta" for an empty section.
func (p *report) nothing() {
	p.font("B", 9)
	p.color(colorOK)
	p.f.SetX(margin)
	p.text(contentW, rowH+1, "Nada consta", "", 1, "L", false)
	p.color(colorText)
}

// totalLine is the section's summary: count (with how many are listed when
// the bureau lists fewer), oldest and newest.
func totalLine(s credit.Summary, listed int) string {
	line := "Total: " + strconv.Itoa(s.Count) + " ocorrência(s)"
	if listed < s.Count {
		line += " (" + strconv.Itoa(listed) + " listada(s))"
	}
	if !s.Oldest.IsZero() {
		line += " · mais antiga em " + day(s.Oldest) + " · mais recente em " + day(s.Newest)
	}
	return line
}

func (p *report) pendencies() {
	sec := p.r.Pendencies
	p.sectionTitle("Pendências financeiras (PEFIN / REFIN)")
	if sec.Summary.Count == 0 && len(sec.Entries) == 0 {
		p.nothing()
		return
	}
	rows, more := listed(sec.Entries, true, func(e credit.Pendency) []string {
		return []string{day(e.Date), string(e.Kind), e.Modality, e.Contract, e.Origin, e.Amount.BRL()}
	})
	p.table([]column{{"Data", 20, "C"}, {"Tipo", 15, "C"}, {"Modalidade", 38, "L"}, {"Contrato", 28, "L"}, {"Credor", 47, "L"}, {"Valor", 38, "R"}},
		rows, more, &totalRow{totalLine(sec.Summary, len(sec.Entries)), sec.Summary.Total.BRL()})
}

func (p *report) protests() {
	sec := p.r.Protests
	p.sectionTitle("Protestos")
	if sec.Summary.Count == 0 && len(sec.Entries) == 0 {
		p.nothing()
		return
	}
	rows, more := listed(sec.Entries, true, func(e credit.Protest) []string {
		return []string{day(e.Date), e.Notary, place(e.City, e.UF), e.Amount.BRL()}
	})
	p.table([]column{{"Data", 20, "C"}, {"Cartório", 74, "L"}, {"Cidade/UF", 54, "L"}, {"Valor", 38, "R"}},
		rows, more, &totalRow{totalLine(sec.Summary, len(sec.Entries)), sec.Summary.Total.BRL()})
}

func (p *report) badCheques() {
	sec := p.r.BadCheques
	p.sectionTitle("Cheques sem fundo (CCF)")
	if sec.Summary.Count == 0 && len(sec.Entries) == 0 {
		p.nothing()
		return
	}
	rows, more := listed(sec.Entries, true, func(e credit.BadCheque) []string {
		return []string{day(e.Date), e.Bank, e.Agency, strconv.Itoa(e.Quantity), place(e.City, e.UF), e.Amount.BRL()}
	})
	p.table([]column{{"Data", 20, "C"}, {"Banco", 24, "C"}, {"Agência", 24, "C"}, {"Qtde", 16, "C"}, {"Cidade/UF", 64, "L"}, {"Valor", 38, "R"}},
		rows, more, &totalRow{totalLine(sec.Summary, len(sec.Entries)), sec.Summary.Total.BRL()})
}

func (p *report) lawsuits() {
	sec := p.r.Lawsuits
	p.sectionTitle("Ações judiciais")
	if sec.Summary.Count == 0 && len(sec.Entries) == 0 {
		p.nothing()
		return
	}
	rows, more := listed(sec.Entries, true, func(e credit.Lawsuit) []string {
		return []string{day(e.Date), e.Nature, e.Court, place(e.City, e.UF), e.Amount.BRL()}
	})
	p.table([]column{{"Data", 20, "C"}, {"Natureza", 48, "L"}, {"Vara/Fórum", 42, "L"}, {"Cidade/UF", 38, "L"}, {"Valor", 38, "R"}},
		rows, more, &totalRow{totalLine(sec.Summary, len(sec.Entries)), sec.Summary.Total.BRL()})
}

func (p *report) bankruptcies() {
	sec := p.r.Bankruptcies
	p.sectionTitle("Falências e recuperações judiciais")
	if sec.Summary.Count == 0 && len(sec.Entries) == 0 {
		p.nothing()
		return
	}
	rows, more := listed(sec.Entries, false, func(e credit.Bankruptcy) []string {
		return []string{day(e.Date), e.Kind, e.Court, place(e.City, e.UF)}
	})
	p.table([]column{{"Data", 20, "C"}, {"Tipo", 60, "L"}, {"Vara/Fórum", 60, "L"}, {"Cidade/UF", 46, "L"}},
		rows, more, &totalRow{totalLine(sec.Summary, len(sec.Entries)), ""})
}

func (p *report) previousConsultations() {
	pc := p.r.PreviousConsultations
	p.sectionTitle("Consultas anteriores por outras empresas")
	p.table([]column{{"Últimos 15 dias", 46.5, "C"}, {"Últimos 30 dias", 46.5, "C"}, {"Últimos 60 dias", 46.5, "C"}, {"Últimos 90 dias", 46.5, "C"}},
		[][]string{{strconv.Itoa(pc.Last15Days), strconv.Itoa(pc.Last30Days), strconv.Itoa(pc.Last60Days), strconv.Itoa(pc.Last90Days)}}, "", nil)
	if len(pc.Entries) == 0 {
		return
	}
	p.f.Ln(2)
	shown := pc.Entries[:min(len(pc.Entries), MaxListedEntries)]
	rows := make([][]string, len(shown))
	for i, e := range shown {
		rows[i] = []string{day(e.Date), e.Company}
	}
	more := ""
	if n := len(pc.Entries) - len(shown); n > 0 {
		more = "… e mais " + strconv.Itoa(n) + " consulta(s) não listada(s) neste PDF"
	}
	p.table([]column{{"Data", 30, "C"}, {"Empresa", 156, "L"}}, rows, more, nil)
}

func (p *report) closing() {
	f := p.f
	p.ensure(16)
	f.Ln(5)
	p.font("", 7)
	p.color(colorMuted)
	f.SetX(margin)
	f.MultiCell(contentW, 3.6, p.tr("As informações deste relatório foram fornecidas pelo bureau de crédito na data e hora da consulta e podem ter mudado desde então. "+
		"O documento do consultado aparece mascarado. Este relatório é confidencial e deve ser usado somente para a análise de crédito, "+
		"conforme a Lei Geral de Proteção de Dados (Lei 13.709/2018)."), "", "L", false)
}

func dateTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(credit.SaoPaulo()).Format("02/01/2006 15:04")
}

// day writes a report date (a calendar day at midnight UTC).
func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("02/01/2006")
}

func place(city, uf string) string {
	switch {
	case city == "" && uf == "":
		return "-"
	case uf == "":
		return city
	case city == "":
		return uf
	}
	return city + "/" + uf
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
