// Command passwords is the Lambda function of the password changes: the
// consultation and PEFIN passwords of an integration, changed at the bureau
// and in Secrets Manager together.
package main

import "creditanalysis/shared/app"

func main() { app.Main("passwords") }
