// Package connectsa is the adapter of the bureau's three ports
// (credit.ConsultationBureau, credit.PEFINRegistry, credit.BureauAccounts)
// for the Connect SA bureau partner: it owns the wire format, the timeouts,
// the retry policy and the mapping of the partner's answers to domain types
// and error codes. Nothing outside this package knows a field name of the
// partner.
//
// # Wire format
//
// Every call is a form-urlencoded POST to {base URL of the environment}{path}
// that answers JSON with a "status" object: codigoResposta (0 success, 1
// login or password refused, 2 request refused with the reason in mensagem,
// 3 record not found, 9 bureau error), descricaoCodigoResposta, mensagem and
// protocolo. Dates are DD/MM/AAAA, times DD/MM/AAAA HH:MM:SS in Brasília time
// (UTC-3), money "R$ 1.234,56".
//
// The consultation, POST /mercurio/ws_consulta/, follows the publicly
// observed format: login, password, consulta (the plan's product code),
// tipodocumento (F or J), documento, uf, cep, telefone, estatica (S, the
// partner's non-charged simulation, in homologation; N in production) and
// tiporesposta=json; the answer carries entrada.nomeConsultado,
// entrada.documentoConsultado, resultado.quadroResumoConsta and one block per
// section with quantidadeOcorrencias, valorTotal and registros.
//
// No public source shows the other endpoints. They are modelled in the same
// style, and all of them live in this package (paths and answers in wire.go,
// form fields in the calls) so that they can be aligned with the partner's
// contract in one place:
//
//	POST /mercurio/ws_pefin/inclusao/  login, senhapefin, referencia, enviasms, cpfresponsavel,
//	                                   tipodocumento, documento, nome, datanascimento, sexo, telefone,
//	                                   logradouro, numero, complemento, bairro, cidade, uf, cep,
//	                                   codigorestricao, contrato, numerodocumento, datavencimento, valor
//	                                   -> registro {referencia, protocolo, situacao, mensagem, dataAtualizacao}
//	POST /mercurio/ws_pefin/baixa/     login, senhapefin, referencia, codigobaixa, databaixa -> registro
//	POST /mercurio/ws_pefin/situacao/  login, senhapefin, referencia (repeated, at most 100) -> registros
//	POST /mercurio/ws_pefin/codigos/   login, senhapefin, tipo (restricao|baixa) -> codigos {codigo, descricao}
//	POST /mercurio/ws_senha/           login, tipo (consulta|pefin), password or senhapefin (current), novasenha
//	POST /mercurio/ws_produtos/        login, password -> produtos {codigo, descricao}
//	POST /mercurio/ws_acesso/          login, password, senhapefin -> acesso {consulta: S|N, pefin: S|N}
//
// situacao is PENDENTE, ATIVO, REJEITADO or BAIXADO. An inclusion carries our
// negativation id as referencia and as the Idempotency-Key header: the
// partner answers a repeated referencia with the record it already holds.
//
// # Reliability
//
// Each call has a deadline (Config.ConsultTimeout, Config.CallTimeout). A
// consultation or a password change is never repeated unless the request
// provably never left (the connection could not be made): a repeated
// consultation may be charged twice, a repeated password change may fail
// against the password it just set. Idempotent calls (status, lists, access
// check, and inclusion and removal thanks to the reference) are retried on
// network errors and 5xx answers while the deadline allows. Answers larger
// than Config.MaxBodyBytes, truncated, or with unexpected types are
// bureau_malformed_answer, never a panic. Credentials never follow a
// redirect.
package connectsa
