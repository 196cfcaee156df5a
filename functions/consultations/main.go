// Command consultations is the Lambda function of the consultation center:
// credit consultations of parties and documents, their records and report
// PDFs.
package main

import "creditanalysis/shared/app"

func main() { app.Main("consultations") }
