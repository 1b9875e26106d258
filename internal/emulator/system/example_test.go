package system_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/iris-cors/iris-cors-cdk/internal/emulator/cfn"
	"github.com/iris-cors/iris-cors-cdk/internal/emulator/system"
)

// The whole local system from a synthesized CDK app: the API of the dev
// Stage's templates through API Gateway's emulation, its Go functions built
// for this machine and run under aws-lambda-rie, the site with
// CloudFront's headers, until Ctrl-C. (Compiled, not run: it builds
// functions and listens on fixed ports.)
func ExampleStart() {
	a, err := cfn.LoadAssembly("cdk.out", "dev")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s, err := system.Start(ctx, system.Options{
		Templates:  a.Templates,
		Region:     a.Region,
		ModuleRoot: ".",
		// The function whose logical ID starts with Predict is this Go
		// package, built for this machine.
		Functions: map[string]string{"Predict": "./functions/predict"},
		APIAddr:   "localhost:3000",
		SiteAddr:  "localhost:8080",
		SiteDir:   "site",
		Log:       os.Stderr,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println("API", s.APIURL, "site", s.SiteURL)
	<-ctx.Done()
}
