package e2e_test

// Plans of the integrations and parties functions for TestFunctionsUnderRIE:
// each step's fixture, in order, against one stack.
func init() {
	plans["integrations"] = []step{
		{fixture: "get-branch-integration-missing", status: 404, code: "not_found"},
		{fixture: "create-integration-forbidden", status: 403, code: "forbidden"},
		{fixture: "create-integration-invalid", status: 400, code: "validation_failed"},
		{fixture: "create-integration", status: 201},
		{fixture: "create-integration", status: 409, code: "branch_already_integrated"},
		{fixture: "get-branch-integration", status: 200},
		{fixture: "list-integrations", status: 200},
		{fixture: "get-integration-missing", status: 404, code: "not_found"},
		{fixture: "update-integration-with-password", status: 400, code: "passwords_not_changed_here"},
		{fixture: "delete-integration-missing", status: 404, code: "not_found"},
	}
	plans["parties"] = []step{
		{fixture: "put-customer", status: 201},
		{fixture: "put-customer", status: 200},
		{fixture: "get-customer", status: 200},
		{fixture: "get-customer-viewer", status: 200},
		{fixture: "put-lead", status: 201},
		{fixture: "put-customer-invalid-document", status: 400, code: "invalid_document"},
		{fixture: "put-party-unknown-kind", status: 400, code: "invalid_parameter"},
		{fixture: "put-invoice", status: 200},
		{fixture: "put-invoice-unknown-customer", status: 404, code: "not_found"},
		{fixture: "put-invoice-analyst-forbidden", status: 403, code: "forbidden"},
		{fixture: "list-invoices", status: 200},
	}
}

func init() {
	plans["audit"] = []step{
		{fixture: "list-audit", status: 200},
		{fixture: "list-audit-by-action", status: 200},
		{fixture: "list-audit-bad-action", status: 400, code: "invalid_parameter"},
		{fixture: "list-audit-viewer-forbidden", status: 403, code: "forbidden"},
	}
}
