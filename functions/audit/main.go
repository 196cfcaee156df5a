// Command audit is the Lambda function that serves the audit trail to
// admins; every other function appends to it.
package main

import "creditanalysis/shared/app"

func main() { app.Main("audit") }
