// Command parties is the Lambda function of the parties area.
package main

import "creditanalysis/shared/app"

func main() { app.Main("parties") }
